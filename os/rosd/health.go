package rosd

import (
	"bytes"
	"context"
	"strings"
	"time"
)

// healthTimeout bounds one health check.
const healthTimeout = 10 * time.Second

// checkHealth runs a service's health command in its container every
// interval while it is ready, until ctx is done, keeping the verdict and
// the end of the output for `ros service list|inspect`.
func (m *manager) checkHealth(ctx context.Context, name, cmd string, interval time.Duration) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
		if ready, _ := m.isReady(name); !ready {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, healthTimeout)
		var out bytes.Buffer
		code, err := execIn(cctx, m.client, m.d.opts.Namespace, name, []string{"/bin/sh", "-c", cmd}, nil, "", &out)
		cancel()
		if ctx.Err() != nil {
			return
		}
		verdict := "healthy"
		if err != nil || code != 0 {
			verdict = "unhealthy"
		}
		text := strings.TrimSpace(out.String())
		if err != nil {
			text = err.Error()
		}
		if len(text) > 512 {
			text = text[len(text)-512:]
		}
		m.mu.Lock()
		if s, ok := m.svcs[name]; ok {
			if s.health != verdict {
				m.d.log.Info("service health", "service", name, "health", verdict, "output", text)
			}
			s.health, s.healthOut = verdict, text
		}
		m.mu.Unlock()
	}
}
