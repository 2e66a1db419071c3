package ssh

import (
	"fmt"
	"slices"
	"strings"

	gossh "golang.org/x/crypto/ssh"
)

// Ciphers returns the cipher names accepted in [Options.Ciphers]: those
// x/crypto/ssh implements, including the legacy ones it only negotiates
// when asked (Packer documents arcfour and the CBC modes as valid).
func Ciphers() []string {
	return known(gossh.SupportedAlgorithms().Ciphers, gossh.InsecureAlgorithms().Ciphers)
}

// KeyExchanges returns the key exchange names accepted in
// [Options.KeyExchanges], legacy ones included, and
// "curve25519-sha256@libssh.org", the older name of curve25519-sha256
// that Packer documents and x/crypto/ssh still negotiates.
func KeyExchanges() []string {
	return known(gossh.SupportedAlgorithms().KeyExchanges, gossh.InsecureAlgorithms().KeyExchanges,
		[]string{"curve25519-sha256@libssh.org"})
}

func known(lists ...[]string) []string {
	var all []string
	for _, l := range lists {
		all = append(all, l...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}

// CheckAlgorithms returns an error naming the first unknown cipher or key
// exchange and the accepted names.
func CheckAlgorithms(ciphers, keyExchanges []string) error {
	if err := checkNames("cipher", ciphers, Ciphers()); err != nil {
		return err
	}
	return checkNames("key exchange algorithm", keyExchanges, KeyExchanges())
}

func checkNames(what string, names, allowed []string) error {
	for _, n := range names {
		if !slices.Contains(allowed, n) {
			return fmt.Errorf("unknown %s %q; supported: %s", what, n, strings.Join(allowed, ", "))
		}
	}
	return nil
}
