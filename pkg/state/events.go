package state

import (
	"context"
	"fmt"
	"time"
)

// Event is one entry of the machine's event log (`ros events`).
type Event struct {
	ID      int64
	Time    time.Time
	Kind    string // e.g. "service", "config", "upgrade", "boot"
	Subject string // e.g. the service name
	Message string
}

// AddEvent appends an event stamped now and returns its ID. Only the newest
// 10,000 events are kept (pruned every 100 inserts).
func (s *Store) AddEvent(ctx context.Context, kind, subject, message string) (int64, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO events (time, kind, subject, message) VALUES (?, ?, ?, ?)`,
		unixNano(now()), kind, subject, message)
	if err != nil {
		return 0, fmt.Errorf("add event %s %s: %w", kind, subject, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("add event %s %s: %w", kind, subject, err)
	}
	if id > keepEvents && id%100 == 0 {
		if _, err := s.db.ExecContext(ctx, `DELETE FROM events WHERE id <= ?`, id-keepEvents); err != nil {
			return id, fmt.Errorf("prune events: %w", err)
		}
	}
	return id, nil
}

// Events returns events in ID order. With since > 0 it returns the first
// limit events after ID since (paging forward, or following the log
// without gaps); with since <= 0 it returns the newest limit events.
// limit <= 0 means no limit.
func (s *Store) Events(ctx context.Context, since int64, limit int) ([]Event, error) {
	query := `SELECT id, time, kind, subject, message FROM events WHERE id > ? ORDER BY id LIMIT ?`
	if since <= 0 {
		query = `SELECT * FROM (SELECT id, time, kind, subject, message FROM events WHERE id > ? ORDER BY id DESC LIMIT ?) ORDER BY id`
	}
	rows, err := s.db.QueryContext(ctx, query, since, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("events since %d: %w", since, err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var (
			e Event
			t int64
		)
		if err := rows.Scan(&e.ID, &t, &e.Kind, &e.Subject, &e.Message); err != nil {
			return nil, fmt.Errorf("events since %d: %w", since, err)
		}
		e.Time = fromNano(t)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events since %d: %w", since, err)
	}
	return out, nil
}
