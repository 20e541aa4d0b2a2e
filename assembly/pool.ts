// placeholder: filled by the pool kernel work
