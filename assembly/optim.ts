// placeholder: filled by the optim kernel work
