package rosd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"time"

	"github.com/ros-os/ros/pkg/api"
	"github.com/ros-os/ros/pkg/cloudconfig"
)

func (b *backend) Config(ctx context.Context, private bool) ([]byte, error) {
	c := b.cfg
	c.mu.Lock()
	defer c.mu.Unlock()
	return cloudconfig.Export(c.runningOrEmpty(), private)
}

func (c *configState) runningOrEmpty() *cloudconfig.Config {
	if c.running == nil {
		return &cloudconfig.Config{}
	}
	return c.running
}

func (b *backend) ConfigGet(ctx context.Context, key string) (any, error) {
	c := b.cfg
	c.mu.Lock()
	defer c.mu.Unlock()
	v, err := cloudconfig.Get(cloudconfig.Redact(c.runningOrEmpty()), key)
	if err != nil {
		return nil, apiErr(err)
	}
	return v, nil
}

// apiErr tags cloud-config errors with the API sentinel a client branches on.
func apiErr(err error) error {
	switch {
	case isAny(err, cloudconfig.ErrNotSet):
		return fmt.Errorf("%w: %w", api.ErrNotFound, err)
	case isAny(err, cloudconfig.ErrUnknownKey, cloudconfig.ErrInvalid, cloudconfig.ErrFormat):
		return fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	return err
}

func (b *backend) ConfigSet(ctx context.Context, key, yamlValue string) (*api.ApplyResult, error) {
	c := b.cfg
	c.mu.Lock()
	defer c.mu.Unlock()
	// Check against the running config first: the error then names the key
	// as the user sees it.
	if _, _, err := cloudconfig.Set(c.runningOrEmpty(), key, yamlValue); err != nil {
		return nil, apiErr(err)
	}
	base := c.local
	if base == nil {
		base = &cloudconfig.Config{}
	}
	local, warns, err := cloudconfig.Set(base, key, yamlValue)
	if err != nil {
		return nil, apiErr(err)
	}
	res, err := c.saveLocal(ctx, local, "ros config set "+key, warns)
	if err != nil {
		return nil, err
	}
	// The saved config is below the datasource and the kernel command
	// line: say so when one of them keeps the running value.
	want, _ := cloudconfig.Get(local, key)
	if got, _ := cloudconfig.Get(c.runningOrEmpty(), key); !reflect.DeepEqual(got, want) {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%s is saved, but %s sets it too and outranks the saved config (image < saved < datasource < kernel command line): the running value stays %v", key, c.sources(), got))
	}
	return res, nil
}

func (b *backend) ConfigMerge(ctx context.Context, doc []byte) (*api.ApplyResult, error) {
	c := b.cfg
	parsed, warns, err := cloudconfig.Parse("merge", doc, cloudconfig.WithFetch(ctx, fetchURL))
	if err != nil {
		return nil, apiErr(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	base := c.local
	if base == nil {
		base = &cloudconfig.Config{}
	}
	return c.saveLocal(ctx, cloudconfig.Merge(base, parsed), "ros config merge", warns)
}

// saveLocal keeps a new saved layer and applies the result live.
func (c *configState) saveLocal(ctx context.Context, local *cloudconfig.Config, source string, warns cloudconfig.Warnings) (*api.ApplyResult, error) {
	b, err := cloudconfig.Export(local, true)
	if err != nil {
		return nil, fmt.Errorf("save config: %w", err)
	}
	if err := c.d.store.Put(ctx, kvLocal, b); err != nil {
		return nil, fmt.Errorf("save config: %w", err)
	}
	c.local = local
	prev := c.running
	rep := c.applyAs(ctx, prev, stageLive, "", source, warns)
	res := toResult(rep.applied, rep.reboot, rep.errs)
	for _, w := range warns {
		res.Warnings = append(res.Warnings, w.String())
	}
	return res, nil
}

func (b *backend) ConfigValidate(ctx context.Context, doc []byte) (*api.Validation, error) {
	c := b.cfg
	source := "user-data"
	if len(doc) == 0 {
		c.mu.Lock()
		doc, source = c.booted, c.bootedSource
		c.mu.Unlock()
		if len(doc) == 0 {
			return &api.Validation{Source: "none", Valid: true, Warnings: []string{"the machine booted without user-data"}}, nil
		}
	}
	v := &api.Validation{Source: source, Valid: true}
	_, warns, err := cloudconfig.Parse(source, doc)
	for _, w := range warns {
		v.Warnings = append(v.Warnings, w.String())
	}
	if err != nil {
		v.Valid = false
		v.Errors = append(v.Errors, err.Error())
	}
	return v, nil
}

func (b *backend) ConfigHistory(ctx context.Context, limit int) ([]api.ConfigRecord, error) {
	recs, err := b.d.store.ConfigHistory(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]api.ConfigRecord, 0, len(recs))
	for _, r := range recs {
		out = append(out, api.ConfigRecord{ID: r.ID, Time: r.Time, Source: r.Source, Status: r.Status, Error: r.Error, Warnings: r.Warnings})
	}
	return out, nil
}

func (b *backend) Events(ctx context.Context, since int64, limit int) ([]api.Event, error) {
	evs, err := b.d.store.Events(ctx, since, limit)
	if err != nil {
		return nil, err
	}
	out := make([]api.Event, 0, len(evs))
	for _, e := range evs {
		out = append(out, api.Event{ID: e.ID, Time: e.Time, Kind: e.Kind, Subject: e.Subject, Message: e.Message})
	}
	return out, nil
}

// fetchURL reads an #include URL.
func fetchURL(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 32<<20))
}

// isAny reports whether err matches any of targets.
func isAny(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
