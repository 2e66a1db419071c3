package winguest

import (
	"regexp"
	"strings"
)

// userDataBlockRE finds the script blocks of Windows user data, as
// EC2Launch reads them: <powershell>...</powershell> and
// <script>...</script>, tags case-sensitive.
var userDataBlockRE = regexp.MustCompile(`(?s)<powershell>(.*?)</powershell>|<script>(.*?)</script>`)

// userData is an instance's user data as the guest uses it.
type userData struct {
	scripts []string // the text of each script block, in order
	persist bool     // <persist>true</persist>: run at every boot, not only the first
	raw     string   // the whole user data when it has no script block
}

func parseUserData(b []byte) userData {
	text := string(b)
	ud := userData{persist: strings.Contains(text, "<persist>true</persist>")}
	for _, m := range userDataBlockRE.FindAllStringSubmatch(text, -1) {
		ud.scripts = append(ud.scripts, m[1]+m[2]) // one of them is empty
	}
	if len(ud.scripts) == 0 {
		ud.raw = text
	}
	return ud
}

// runUserData records the user data (kind "userdata") and applies its
// "net user" commands to the accounts. User data without a script block
// is recorded but not run, as on EC2.
func (m *Machine) runUserData() []Event {
	ud := m.userData
	if len(ud.scripts) == 0 {
		if strings.TrimSpace(ud.raw) == "" {
			return nil
		}
		e := newEvent(KindUserData)
		e.Text = ud.raw
		return []Event{e}
	}
	var events []Event
	for _, script := range ud.scripts {
		e := newEvent(KindUserData)
		e.Text = script
		events = append(events, e)
		for _, nu := range findNetUsers(script) {
			m.setPassword(nu.name, nu.password, nu.add)
		}
	}
	return events
}
