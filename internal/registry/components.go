package registry

// components is the table of every component. Each entry names its kind,
// HCL type, generated spec (package hcl2spec) and Config constructor.
var components = []Component{}
