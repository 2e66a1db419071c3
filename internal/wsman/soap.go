package wsman

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Namespaces of the messages WinRM exchanges.
const (
	nsSOAP       = "http://www.w3.org/2003/05/soap-envelope"
	nsAddressing = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
	nsTransfer   = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
	nsWSMan      = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
	nsShell      = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
	nsFault      = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
)

// Actions this server understands, and the resource URI of cmd shells.
const (
	actionCreate  = nsTransfer + "/Create"
	actionDelete  = nsTransfer + "/Delete"
	actionCommand = nsShell + "/Command"
	actionSend    = nsShell + "/Send"
	actionReceive = nsShell + "/Receive"
	actionSignal  = nsShell + "/Signal"
	actionFault   = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
	resourceCmd   = nsShell + "/cmd"

	stateDone    = nsShell + "/CommandState/Done"
	stateRunning = nsShell + "/CommandState/Running"
)

// envelope is the part of a request this server reads.
type envelope struct {
	XMLName xml.Name `xml:"http://www.w3.org/2003/05/soap-envelope Envelope"`
	Header  struct {
		Action           string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing Action"`
		MessageID        string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing MessageID"`
		ResourceURI      string `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd ResourceURI"`
		OperationTimeout string `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd OperationTimeout"`
		SelectorSet      struct {
			Selectors []struct {
				Name  string `xml:"Name,attr"`
				Value string `xml:",chardata"`
			} `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd Selector"`
		} `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd SelectorSet"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Header"`
	Body struct {
		CommandLine struct {
			Command   string   `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Command"`
			Arguments []string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Arguments"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell CommandLine"`
		Send struct {
			Streams []struct {
				Name      string `xml:"Name,attr"`
				CommandID string `xml:"CommandId,attr"`
				End       string `xml:"End,attr"`
				Data      string `xml:",chardata"`
			} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Stream"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Send"`
		Receive struct {
			DesiredStream struct {
				CommandID string `xml:"CommandId,attr"`
			} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell DesiredStream"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Receive"`
		Signal struct {
			CommandID string `xml:"CommandId,attr"`
			Code      string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Code"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Signal"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Body"`
}

// selector returns the value of the header selector name, such as ShellId.
func (e *envelope) selector(name string) string {
	for _, s := range e.Header.SelectorSet.Selectors {
		if s.Name == name {
			return strings.TrimSpace(s.Value)
		}
	}
	return ""
}

// escape returns s escaped for XML text and attribute values.
func escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// writeEnvelope sends a SOAP envelope with the given action and body
// (already XML) in reply to the request whose MessageID is relatesTo.
func writeEnvelope(w http.ResponseWriter, status int, action, relatesTo, body string) {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
	fmt.Fprintf(&b, `<s:Envelope xml:lang="en-US" xmlns:s="%s" xmlns:a="%s" xmlns:x="%s" xmlns:w="%s" xmlns:rsp="%s" xmlns:f="%s">`,
		nsSOAP, nsAddressing, nsTransfer, nsWSMan, nsShell, nsFault)
	b.WriteString(`<s:Header>`)
	fmt.Fprintf(&b, `<a:Action>%s</a:Action>`, escape(action))
	fmt.Fprintf(&b, `<a:MessageID>uuid:%s</a:MessageID>`, strings.ToUpper(uuid.NewString()))
	fmt.Fprintf(&b, `<a:To>%s/role/anonymous</a:To>`, nsAddressing)
	if relatesTo != "" {
		fmt.Fprintf(&b, `<a:RelatesTo>%s</a:RelatesTo>`, escape(relatesTo))
	}
	b.WriteString(`</s:Header><s:Body>`)
	b.WriteString(body)
	b.WriteString(`</s:Body></s:Envelope>`)
	w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, b.String())
}

// fault describes a SOAP fault as WinRM sends it.
type fault struct {
	code    string // SOAP code: s:Sender or s:Receiver
	subcode string // WS-Management subcode, e.g. w:TimedOut
	wsman   uint32 // WSManFault code; 0 leaves the WSManFault detail out
	message string
}

// Faults the client acts on. masterzen/winrm retries a Receive whose error
// text contains "OperationTimeout"; WinRM's own message for code
// 2150858793 contains it.
var (
	faultTimedOut = fault{"s:Receiver", "w:TimedOut", 2150858793,
		"The WS-Management service cannot complete the operation within the time specified in OperationTimeout."}
)

func faultShellNotFound(id string) fault {
	return fault{"s:Sender", "w:InvalidSelectors", 2150858843, fmt.Sprintf(
		"The request for the Windows Remote Shell with ShellId %s failed because the shell was not found on the server. "+
			"Possible causes are: the specified ShellId is incorrect or the shell no longer exists on the server. "+
			"Provide the correct ShellId or create a new shell and retry the operation.", id)}
}

func faultCommandNotFound(shellID, commandID string) fault {
	return fault{"s:Sender", "w:InvalidParameter", 0, fmt.Sprintf(
		"The command %s was not found in the Windows Remote Shell with ShellId %s.", commandID, shellID)}
}

// writeFault sends f with HTTP status 500, as WinRM does.
func writeFault(w http.ResponseWriter, relatesTo string, f fault) {
	var b strings.Builder
	fmt.Fprintf(&b, `<s:Fault><s:Code><s:Value>%s</s:Value><s:Subcode><s:Value>%s</s:Value></s:Subcode></s:Code>`, f.code, f.subcode)
	fmt.Fprintf(&b, `<s:Reason><s:Text xml:lang="en-US">%s</s:Text></s:Reason>`, escape(f.message))
	if f.wsman != 0 {
		fmt.Fprintf(&b, `<s:Detail><f:WSManFault Code="%d" Machine="localhost"><f:Message>%s</f:Message></f:WSManFault></s:Detail>`,
			f.wsman, escape(f.message))
	}
	b.WriteString(`</s:Fault>`)
	writeEnvelope(w, http.StatusInternalServerError, actionFault, relatesTo, b.String())
}

// parseDuration reads an xs:duration such as PT60S, PT0.5S or P0DT1H2M3.5S.
// Years and months are not accepted: WS-Management timeouts do not use them.
func parseDuration(s string) (time.Duration, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "P")
	if !ok || rest == "" {
		return 0, fmt.Errorf("duration %q: want PnDTnHnMnS", s)
	}
	var d time.Duration
	inTime := false // after the T, M means minutes
	for rest != "" {
		if rest[0] == 'T' && !inTime {
			inTime, rest = true, rest[1:]
			continue
		}
		i := strings.IndexFunc(rest, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
		if i <= 0 {
			return 0, fmt.Errorf("duration %q: want PnDTnHnMnS", s)
		}
		var unit time.Duration
		switch u := rest[i]; {
		case u == 'D' && !inTime:
			unit = 24 * time.Hour
		case u == 'H' && inTime:
			unit = time.Hour
		case u == 'M' && inTime:
			unit = time.Minute
		case u == 'S' && inTime:
			unit = time.Second
		default:
			return 0, fmt.Errorf("duration %q: unexpected %q", s, u)
		}
		n, err := strconv.ParseFloat(rest[:i], 64)
		if err != nil {
			return 0, fmt.Errorf("duration %q: %w", s, err)
		}
		d += time.Duration(n * float64(unit))
		rest = rest[i+1:]
	}
	return d, nil
}
