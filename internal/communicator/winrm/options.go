package winrm

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Defaults applied by [Connect] to zero-valued [Options] fields.
const (
	DefaultPort      = 5985
	DefaultHTTPSPort = 5986
	DefaultTimeout   = 30 * time.Minute
)

// Options says how to reach and authenticate to the build instance. The
// builder fills it from the communicator configuration (winrm_*).
type Options struct {
	Host string
	// Port is the WinRM port; default 5985, or 5986 with HTTPS.
	Port     int
	User     string
	Password string

	// HTTPS connects over TLS (winrm_use_ssl).
	HTTPS bool
	// Insecure skips verification of the server certificate
	// (winrm_insecure): a new instance's certificate is self-signed.
	Insecure bool
	// NTLM authenticates with NTLM (Negotiate) instead of Basic
	// (winrm_use_ntlm). The user may be written DOMAIN\user.
	NTLM bool
	// NoProxy bypasses the HTTP(S)_PROXY environment variables
	// (winrm_no_proxy).
	NoProxy bool

	// Timeout bounds Connect and Reconnect as a whole: how long to keep
	// trying while the instance boots (winrm_timeout); default 30m.
	Timeout time.Duration
	// Logger receives debug logs; nil discards them.
	Logger hclog.Logger
}

// withDefaults returns a copy of o with defaults filled in, or an error
// naming the first invalid field.
func (o Options) withDefaults() (Options, error) {
	if o.Host == "" {
		return o, fmt.Errorf("winrm options: host is required")
	}
	if o.User == "" {
		return o, fmt.Errorf("winrm options: user is required for %s", o.Host)
	}
	if o.Port == 0 {
		o.Port = DefaultPort
		if o.HTTPS {
			o.Port = DefaultHTTPSPort
		}
	}
	if o.Port < 1 || o.Port > 65535 {
		return o, fmt.Errorf("winrm options: port %d is not a TCP port", o.Port)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	return o, nil
}

// addr is host:port, for messages.
func (o Options) addr() string { return net.JoinHostPort(o.Host, strconv.Itoa(o.Port)) }

// url is the WS-Management endpoint.
func (o Options) url() string {
	scheme := "http"
	if o.HTTPS {
		scheme = "https"
	}
	return scheme + "://" + o.addr() + "/wsman"
}
