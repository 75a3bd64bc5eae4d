package state

import (
	"context"
	"fmt"
)

// SetServiceEnabled records that the service name is enabled or disabled
// (`ros service enable|disable`), overriding the image's default.
func (s *Store) SetServiceEnabled(ctx context.Context, name string, enabled bool) error {
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO service_overrides (name, enabled, time) VALUES (?, ?, ?)
		 ON CONFLICT (name) DO UPDATE SET enabled = excluded.enabled, time = excluded.time`,
		name, enabled, unixNano(now()))
	if err != nil {
		return fmt.Errorf("set service %s enabled=%t: %w", name, enabled, err)
	}
	return nil
}

// ClearServiceOverride forgets the enable/disable override of name (the
// image default applies again). No override is not an error.
func (s *Store) ClearServiceOverride(ctx context.Context, name string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM service_overrides WHERE name = ?`, name); err != nil {
		return fmt.Errorf("clear service %s override: %w", name, err)
	}
	return nil
}

// ServiceOverrides returns every override: service name -> enabled.
func (s *Store) ServiceOverrides(ctx context.Context) (map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, enabled FROM service_overrides`)
	if err != nil {
		return nil, fmt.Errorf("service overrides: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var (
			name    string
			enabled bool
		)
		if err := rows.Scan(&name, &enabled); err != nil {
			return nil, fmt.Errorf("service overrides: %w", err)
		}
		out[name] = enabled
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("service overrides: %w", err)
	}
	return out, nil
}

// PutService stores (or replaces) the definition of an added service: the
// YAML of one LinuxKit image entry, as `ros service add` or cloud-config
// gave it.
func (s *Store) PutService(ctx context.Context, name string, definition []byte) error {
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO services (name, definition, time) VALUES (?, ?, ?)
		 ON CONFLICT (name) DO UPDATE SET definition = excluded.definition, time = excluded.time`,
		name, nonNil(definition), unixNano(now()))
	if err != nil {
		return fmt.Errorf("put service %s: %w", name, err)
	}
	return nil
}

// DeleteService removes an added service; ErrNotFound if there is none.
func (s *Store) DeleteService(ctx context.Context, name string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM services WHERE name = ?`, name)
	if err != nil {
		return fmt.Errorf("delete service %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("delete service %s: %w", name, err)
	}
	if n == 0 {
		return fmt.Errorf("delete service %s: %w", name, ErrNotFound)
	}
	return nil
}

// AddedServices returns every added service: name -> definition.
func (s *Store) AddedServices(ctx context.Context) (map[string][]byte, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, definition FROM services`)
	if err != nil {
		return nil, fmt.Errorf("added services: %w", err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var (
			name string
			def  []byte
		)
		if err := rows.Scan(&name, &def); err != nil {
			return nil, fmt.Errorf("added services: %w", err)
		}
		out[name] = def
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("added services: %w", err)
	}
	return out, nil
}
