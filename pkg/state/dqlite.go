//go:build cgo

package state

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/canonical/go-dqlite"
	"github.com/canonical/go-dqlite/app"
	"github.com/canonical/go-dqlite/client"
)

// dbName is the dqlite database holding every table.
const dbName = "ros"

type dqliteNode struct{ app *app.App }

// startNode starts the dqlite node whose data lives in dir.
func startNode(dir string, log *slog.Logger) (node, error) {
	appOpts := []app.Option{
		app.WithLogFunc(logFunc(log)),
		// One node: nothing to rebalance; keep the background check rare.
		app.WithRolesAdjustmentFrequency(5 * time.Minute),
		// Few, small writes: snapshot often and keep a short raft log in
		// memory. dqlite's defaults (1024/8192) held ~150 MB after 10,000
		// writes; 64/64 holds a few MB.
		app.WithSnapshotParams(dqlite.SnapshotParams{Threshold: 64, Trailing: 64}),
	}
	// The address is recorded in info.yaml at creation and must not change
	// afterwards; give it only for a new store.
	if _, err := os.Stat(filepath.Join(dir, "info.yaml")); errors.Is(err, os.ErrNotExist) {
		appOpts = append(appOpts, app.WithAddress(address(dir)))
	}
	a, err := app.New(dir, appOpts...)
	if err != nil {
		return nil, fmt.Errorf("start dqlite: %w", err)
	}
	return &dqliteNode{app: a}, nil
}

func (n *dqliteNode) open(ctx context.Context) (*sql.DB, error) {
	if err := n.app.Ready(ctx); err != nil {
		return nil, fmt.Errorf("wait for dqlite: %w", err)
	}
	db, err := n.app.Open(ctx, dbName)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return db, nil
}

func (n *dqliteNode) Close() error { return n.app.Close() }

// address is the abstract Unix socket a new store in dir listens on.
func address(dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return "@ros-state-" + hex.EncodeToString(sum[:6])
}

func logFunc(log *slog.Logger) client.LogFunc {
	return func(l client.LogLevel, format string, a ...any) {
		level := slog.LevelDebug
		switch l {
		case client.LogInfo:
			level = slog.LevelInfo
		case client.LogWarn:
			level = slog.LevelWarn
		case client.LogError:
			level = slog.LevelError
		}
		log.Log(context.Background(), level, "dqlite: "+fmt.Sprintf(format, a...))
	}
}
