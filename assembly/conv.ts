// placeholder: filled by the conv kernel work
