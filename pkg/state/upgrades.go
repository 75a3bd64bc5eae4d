package state

import (
	"context"
	"fmt"
	"time"
)

// Upgrade is one entry of the upgrade history (issue 5 fills it).
type Upgrade struct {
	ID      int64
	Time    time.Time // zero: now
	Version string
	Slot    string // "A" or "B"
	Status  string // e.g. "installed", "trial", "good", "failed", "rolled-back"
	Message string // why, for a failure
}

// AddUpgrade stores u (its ID is ignored) and returns the new entry's ID.
func (s *Store) AddUpgrade(ctx context.Context, u Upgrade) (int64, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO upgrades (time, version, slot, status, message) VALUES (?, ?, ?, ?, ?)`,
		unixNano(u.Time), u.Version, u.Slot, u.Status, u.Message)
	if err != nil {
		return 0, fmt.Errorf("add upgrade %s: %w", u.Version, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("add upgrade %s: %w", u.Version, err)
	}
	return id, nil
}

// Upgrades returns the newest limit entries (all if limit <= 0), newest
// first.
func (s *Store) Upgrades(ctx context.Context, limit int) ([]Upgrade, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, time, version, slot, status, message FROM upgrades ORDER BY id DESC LIMIT ?`, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("upgrades: %w", err)
	}
	defer rows.Close()
	var out []Upgrade
	for rows.Next() {
		var (
			u Upgrade
			t int64
		)
		if err := rows.Scan(&u.ID, &t, &u.Version, &u.Slot, &u.Status, &u.Message); err != nil {
			return nil, fmt.Errorf("upgrades: %w", err)
		}
		u.Time = fromNano(t)
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("upgrades: %w", err)
	}
	return out, nil
}
