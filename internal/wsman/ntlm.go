package wsman

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	"golang.org/x/crypto/md4" //lint:ignore SA1019 NTLM is defined over MD4
)

// NTLM (MS-NLMP) message types and the flags this server uses.
const (
	ntlmNegotiate    = 1
	ntlmChallenge    = 2
	ntlmAuthenticate = 3

	flagUnicode         = 1 << 0
	flagRequestTarget   = 1 << 2
	flagNTLM            = 1 << 9
	flagAlwaysSign      = 1 << 15
	flagTargetTypeSrv   = 1 << 17
	flagExtendedSession = 1 << 19
	flagTargetInfo      = 1 << 23
	flag128             = 1 << 29
	flag56              = 1 << 31

	// challengeFlags offer NTLMv2 only: no LM key, no key exchange (which
	// go-ntlmssp refuses), Unicode strings.
	challengeFlags = flagUnicode | flagRequestTarget | flagNTLM | flagAlwaysSign |
		flagTargetTypeSrv | flagExtendedSession | flagTargetInfo | flag128 | flag56

	// ntlmTarget is the server's NetBIOS name and domain in the challenge.
	ntlmTarget = "WSMAN"
)

var ntlmSignature = []byte("NTLMSSP\x00")

// ntlmType returns the type of an NTLM message, or 0 if b is not one.
func ntlmType(b []byte) uint32 {
	if len(b) < 12 || !bytes.Equal(b[:8], ntlmSignature) {
		return 0
	}
	return binary.LittleEndian.Uint32(b[8:12])
}

// challengeMessage builds the CHALLENGE message carrying serverChallenge.
func challengeMessage(serverChallenge [8]byte, now time.Time) []byte {
	target := toUTF16(ntlmTarget)
	var info bytes.Buffer
	avPair := func(id uint16, v []byte) {
		_ = binary.Write(&info, binary.LittleEndian, [2]uint16{id, uint16(len(v))})
		info.Write(v)
	}
	avPair(2, target) // MsvAvNbDomainName
	avPair(1, target) // MsvAvNbComputerName
	avPair(4, target) // MsvAvDnsDomainName
	avPair(3, target) // MsvAvDnsComputerName
	var ts [8]byte    // MsvAvTimestamp: FILETIME, 100 ns since 1601
	binary.LittleEndian.PutUint64(ts[:], uint64(now.UnixNano()/100)+116444736000000000)
	avPair(7, ts[:])
	avPair(0, nil) // MsvAvEOL

	const header = 48
	m := make([]byte, header, header+len(target)+info.Len())
	copy(m, ntlmSignature)
	le := binary.LittleEndian
	le.PutUint32(m[8:], ntlmChallenge)
	putField(m[12:], len(target), header)
	le.PutUint32(m[20:], challengeFlags)
	copy(m[24:32], serverChallenge[:])
	putField(m[40:], info.Len(), header+len(target))
	m = append(m, target...)
	return append(m, info.Bytes()...)
}

// putField writes an NTLM payload descriptor: length, maximum length, offset.
func putField(b []byte, length, offset int) {
	binary.LittleEndian.PutUint16(b, uint16(length))
	binary.LittleEndian.PutUint16(b[2:], uint16(length))
	binary.LittleEndian.PutUint32(b[4:], uint32(offset))
}

// field returns the payload the descriptor at b[at:] points to.
func field(b []byte, at int) ([]byte, error) {
	n := int(binary.LittleEndian.Uint16(b[at:]))
	off := int(binary.LittleEndian.Uint32(b[at+4:]))
	if off > len(b) || n > len(b)-off {
		return nil, errors.New("ntlm field beyond the message")
	}
	return b[off : off+n], nil
}

// authenticate is what the server reads from an AUTHENTICATE message.
type authenticate struct {
	user, domain string
	ntResponse   []byte
}

// parseAuthenticate reads an AUTHENTICATE message.
func parseAuthenticate(b []byte) (authenticate, error) {
	var a authenticate
	if ntlmType(b) != ntlmAuthenticate || len(b) < 64 {
		return a, errors.New("not an ntlm authenticate message")
	}
	unicode := binary.LittleEndian.Uint32(b[60:])&flagUnicode != 0
	str := func(at int) (string, error) {
		f, err := field(b, at)
		if err != nil || !unicode {
			return string(f), err
		}
		return fromUTF16(f)
	}
	var err error
	if a.ntResponse, err = field(b, 20); err != nil {
		return a, err
	}
	if a.domain, err = str(28); err != nil {
		return a, err
	}
	if a.user, err = str(36); err != nil {
		return a, err
	}
	return a, nil
}

// ntowfv2 is the NTLMv2 key of an account: HMAC-MD5 keyed with the MD4 of
// the password over the upper-case user name and the domain, in UTF-16LE.
func ntowfv2(user, domain, password string) []byte {
	h := md4.New()
	h.Write(toUTF16(password))
	return hmacMD5(h.Sum(nil), toUTF16(strings.ToUpper(user)+domain))
}

// ntlmv2OK reports whether ntResponse is the NTLMv2 answer to
// serverChallenge for the account key: its first 16 bytes (NTProofStr) are
// HMAC-MD5(key, serverChallenge || rest). NTLMv1 responses (24 bytes) fail.
func ntlmv2OK(key, ntResponse []byte, serverChallenge [8]byte) bool {
	if len(ntResponse) <= 24 {
		return false
	}
	proof := hmacMD5(key, serverChallenge[:], ntResponse[16:])
	return hmac.Equal(proof, ntResponse[:16])
}

func hmacMD5(key []byte, data ...[]byte) []byte {
	m := hmac.New(md5.New, key)
	for _, d := range data {
		m.Write(d)
	}
	return m.Sum(nil)
}

func toUTF16(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

func fromUTF16(b []byte) (string, error) {
	if len(b)%2 != 0 {
		return "", errors.New("odd-length UTF-16 string")
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u)), nil
}

// challenges are the server challenges issued and not yet answered. They
// are kept for the whole server, not per connection: the client's HTTP
// connection pool may send the AUTHENTICATE message on another connection
// than the one that carried the CHALLENGE when requests run concurrently
// (a long-polling Receive beside a Send), and a test fixture must not fail
// on that race. Each challenge is good for one answer within challengeTTL.
type challenges struct {
	mu      sync.Mutex
	pending map[[8]byte]time.Time // challenge -> when issued
}

const (
	challengeTTL = 2 * time.Minute
	maxPending   = 256
)

// issue returns a fresh random challenge.
func (c *challenges) issue(now time.Time) [8]byte {
	var ch [8]byte
	_, _ = rand.Read(ch[:])
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		c.pending = map[[8]byte]time.Time{}
	}
	for k, t := range c.pending {
		if now.Sub(t) > challengeTTL || len(c.pending) >= maxPending {
			delete(c.pending, k)
		}
	}
	c.pending[ch] = now
	return ch
}

// answer reports whether ok accepts one of the pending challenges, and
// forgets the challenge it accepts.
func (c *challenges) answer(now time.Time, ok func([8]byte) bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, t := range c.pending {
		if now.Sub(t) <= challengeTTL && ok(k) {
			delete(c.pending, k)
			return true
		}
	}
	return false
}
