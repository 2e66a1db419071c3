package hcl2spec

// sensitiveMark is the type of SensitiveMark; a type of its own keeps it
// apart from marks that HCL functions or other packages may set.
type sensitiveMark struct{}

// SensitiveMark is the cty mark of a secret value, the value counterpart of
// the sensitive:"true" tag: a data source puts it on a secret output (the
// decrypted value of a SecureString parameter), and the template loader
// takes it off with registry.UnmarkSensitive and masks what it marked.
var SensitiveMark = sensitiveMark{}
