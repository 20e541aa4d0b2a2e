// placeholder: filled by the reduce kernel work
