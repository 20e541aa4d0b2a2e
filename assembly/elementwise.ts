// placeholder: filled by the elementwise kernel work
