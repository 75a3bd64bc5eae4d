package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Config statuses.
const (
	StatusApplied  = "applied"
	StatusRejected = "rejected"
)

// ConfigRecord is one config the machine received: applied, or rejected
// with the error that kept it out.
type ConfigRecord struct {
	ID       int64
	Time     time.Time // zero: now
	Source   string    // datasource or API call, e.g. "nocloud", "ros config set"
	Status   string    // StatusApplied or StatusRejected
	Error    string
	Warnings []string
	UserData []byte // raw as received
	Config   []byte // merged result, private export
}

// AddConfig stores r (its ID is ignored) and returns the new record's ID.
// Only the newest 100 records are kept.
func (s *Store) AddConfig(ctx context.Context, r ConfigRecord) (int64, error) {
	w := r.Warnings
	if w == nil {
		w = []string{}
	}
	warnings, err := json.Marshal(w)
	if err != nil {
		return 0, fmt.Errorf("add config from %s: %w", r.Source, err)
	}
	res, err := s.db.ExecContext(ctx,
		`INSERT INTO configs (time, source, status, error, warnings, user_data, config) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		unixNano(r.Time), r.Source, r.Status, r.Error, string(warnings), nonNil(r.UserData), nonNil(r.Config))
	if err != nil {
		return 0, fmt.Errorf("add config from %s: %w", r.Source, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("add config from %s: %w", r.Source, err)
	}
	if id > keepConfigs {
		if _, err := s.db.ExecContext(ctx, `DELETE FROM configs WHERE id <= ?`, id-keepConfigs); err != nil {
			return id, fmt.Errorf("prune configs: %w", err)
		}
	}
	return id, nil
}

// ConfigHistory returns the newest limit records (all if limit <= 0),
// newest first.
func (s *Store) ConfigHistory(ctx context.Context, limit int) ([]ConfigRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+configColumns+` FROM configs ORDER BY id DESC LIMIT ?`, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("config history: %w", err)
	}
	defer rows.Close()
	var out []ConfigRecord
	for rows.Next() {
		r, err := scanConfig(rows)
		if err != nil {
			return nil, fmt.Errorf("config history: %w", err)
		}
		out = append(out, *r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("config history: %w", err)
	}
	return out, nil
}

// LastApplied returns the newest applied record, or ErrNotFound.
func (s *Store) LastApplied(ctx context.Context) (*ConfigRecord, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+configColumns+` FROM configs WHERE status = ? ORDER BY id DESC LIMIT 1`, StatusApplied)
	r, err := scanConfig(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("last applied config: %w", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("last applied config: %w", err)
	}
	return r, nil
}

const configColumns = `id, time, source, status, error, warnings, user_data, config`

type scanner interface{ Scan(dest ...any) error }

func scanConfig(sc scanner) (*ConfigRecord, error) {
	var (
		r        ConfigRecord
		t        int64
		warnings string
	)
	if err := sc.Scan(&r.ID, &t, &r.Source, &r.Status, &r.Error, &warnings, &r.UserData, &r.Config); err != nil {
		return nil, err
	}
	r.Time = fromNano(t)
	if err := json.Unmarshal([]byte(warnings), &r.Warnings); err != nil {
		return nil, fmt.Errorf("config %d warnings: %w", r.ID, err)
	}
	if len(r.Warnings) == 0 {
		r.Warnings = nil
	}
	return &r, nil
}

// nonNil stores an empty blob rather than NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// sqlLimit turns "limit <= 0 means all" into SQLite's LIMIT -1.
func sqlLimit(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}
