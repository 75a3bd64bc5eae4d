package datasource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// endpointer is a network source on a base URL; when one source finds no
// server there, First skips the others on the same URL.
type endpointer interface{ endpoint() string }

// First tries the sources and returns the data of the first that finds
// some. Local sources are tried before network ones; within a kind the given
// order is kept. A source that fails for any reason is logged and the next
// one is tried, except that once a metadata address gave no answer at all
// the other sources on that address are skipped (they would wait out the
// same deadline). When no source finds data, the error matches ErrNotFound
// if every source was simply absent, and joins the real errors otherwise.
// When ctx ends, First stops with ctx's error.
func First(ctx context.Context, srcs []Source, log *slog.Logger) (*Data, error) {
	return first(ctx, srcs, log, nil)
}

// first is First; a failure already in warned is logged at debug level
// only, and a new one is added to it (when warned is not nil).
func first(ctx context.Context, srcs []Source, log *slog.Logger, warned map[string]bool) (*Data, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ordered := append(OfKind(srcs, Local), OfKind(srcs, Network)...)
	dead := map[string]bool{}
	var tried []string
	var errs []error
	for _, s := range ordered {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("datasources: %w", err)
		}
		if e, ok := s.(endpointer); ok && dead[e.endpoint()] {
			log.Debug("datasource skipped: its address gave no answer", "datasource", s.Name(), "url", e.endpoint())
			continue
		}
		tried = append(tried, s.Name())
		log.Debug("trying datasource", "datasource", s.Name(), "kind", s.Kind())
		d, err := s.Fetch(ctx)
		switch {
		case err == nil:
			log.Info("datasource found", "datasource", s.Name(), "source", d.Source, "user_data_bytes", len(d.UserData))
			return d, nil
		case ctx.Err() != nil:
			return nil, fmt.Errorf("datasources: %w", err)
		case errors.Is(err, ErrNotFound):
			log.Debug("datasource absent", "datasource", s.Name(), "err", err)
			if e, ok := s.(endpointer); ok && errors.Is(err, errNoAnswer) {
				dead[e.endpoint()] = true
			}
		default:
			key := s.Name() + ": " + err.Error()
			if warned[key] {
				log.Debug("datasource failed again", "datasource", s.Name(), "err", err)
			} else {
				log.Warn("datasource failed", "datasource", s.Name(), "err", err)
			}
			if warned != nil {
				warned[key] = true
			}
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("datasources: none gave data (tried %s): %w", strings.Join(tried, ", "), errors.Join(errs...))
	}
	return nil, fmt.Errorf("datasources: none found (tried %s): %w", strings.Join(tried, ", "), ErrNotFound)
}

// Poll runs First every interval until a source gives data or ctx ends,
// and returns what the last try did. Each distinct failure (a source and
// its error) is logged as a warning once; its repeats at debug level, so a
// metadata address that keeps refusing does not fill the log.
func Poll(ctx context.Context, srcs []Source, log *slog.Logger, interval time.Duration) (*Data, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	warned := map[string]bool{}
	for {
		d, err := first(ctx, srcs, log, warned)
		if err == nil || ctx.Err() != nil {
			return d, err
		}
		log.Debug("datasources: nothing yet", "err", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("poll datasources: %w; last try: %w", ctx.Err(), err)
		case <-time.After(interval):
		}
	}
}
