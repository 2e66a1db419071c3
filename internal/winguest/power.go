package winguest

import (
	"errors"
	"time"
)

// Power effects of commands, applied once the command has answered.
type effect int

const (
	noEffect effect = iota
	effectRestart
	effectPoweroff
	effectSysprep
)

// schedule starts a restart, poweroff or sysprep stop of the running
// machine. One is under way at a time; later ones are ignored.
func (m *Machine) schedule(e effect) {
	m.mu.Lock()
	defer m.mu.Unlock()
	pc := m.cycle
	if e == noEffect || pc == nil || pc.pending {
		return
	}
	pc.pending = true
	switch e {
	case effectRestart:
		pc.wg.Go(func() { m.restart(pc) })
	case effectPoweroff:
		m.goStopSelf(pc, "poweroff", settle)
	case effectSysprep:
		m.goStopSelf(pc, "sysprep", m.opts.SysprepDelay)
	}
}

// restart drops every connection shortly after the restart command has
// answered, keeps WinRM down for RestartDelay and boots again (running
// persisted user data).
func (m *Machine) restart(pc *powerCycle) {
	if sleep(pc.ctx, pc.ctx, settle) != nil {
		return
	}
	m.mu.Lock()
	if pc.ctx.Err() != nil {
		m.mu.Unlock()
		return
	}
	srv := pc.server
	pc.server, pc.ready = nil, false
	m.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
	m.record(newEvent(KindRestart))
	m.log.Debug("windows guest restarting", "instance", m.opts.InstanceID, "down_for", m.opts.RestartDelay)
	if sleep(pc.ctx, pc.ctx, m.opts.RestartDelay) != nil {
		return
	}
	if err := m.startUp(pc); err != nil && !errors.Is(err, ErrStopped) {
		m.log.Error("windows guest did not come back after a restart", "instance", m.opts.InstanceID, "error", err)
	}
}

// goStopSelf stops the machine after delay and then calls OnStop. The
// goroutine leaves pc's wait group before calling OnStop, so that OnStop
// may call Stop.
func (m *Machine) goStopSelf(pc *powerCycle, reason string, delay time.Duration) {
	pc.wg.Add(1)
	go func() {
		if m.stopSelf(pc, delay) && m.opts.OnStop != nil {
			m.opts.OnStop(reason)
		}
	}()
}

// stopSelf stops pc after delay unless it was stopped meanwhile.
func (m *Machine) stopSelf(pc *powerCycle, delay time.Duration) bool {
	defer pc.wg.Done()
	if sleep(pc.ctx, pc.ctx, delay) != nil || !m.end(pc) {
		return false
	}
	m.log.Debug("windows guest stopped by itself", "instance", m.opts.InstanceID)
	return true
}
