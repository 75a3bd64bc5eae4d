package qemu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// qmpTimeout bounds one QMP exchange when ctx has no earlier deadline.
const qmpTimeout = 10 * time.Second

type qmpError struct {
	Class string `json:"class"`
	Desc  string `json:"desc"`
}

type qmpMessage struct {
	QMP    json.RawMessage `json:"QMP"`
	Return json.RawMessage `json:"return"`
	Error  *qmpError       `json:"error"`
	Event  string          `json:"event"`
}

// qmpCommand connects to the QMP socket, negotiates capabilities, runs one
// command and returns its "return" value. A connection per command keeps
// the client free of asynchronous events; QEMU accepts a new client as soon
// as the previous one has gone.
func qmpCommand(ctx context.Context, socket, command string, args any) (json.RawMessage, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return nil, fmt.Errorf("qmp %s: %w", command, err)
	}
	defer conn.Close()
	deadline, ok := ctx.Deadline()
	if !ok || time.Until(deadline) > qmpTimeout {
		deadline = time.Now().Add(qmpTimeout)
	}
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()

	dec := json.NewDecoder(conn)
	enc := json.NewEncoder(conn)
	var greeting qmpMessage
	if err := dec.Decode(&greeting); err != nil {
		return nil, fmt.Errorf("qmp %s: read greeting: %w", command, err)
	}
	if greeting.QMP == nil {
		return nil, fmt.Errorf("qmp %s: unexpected greeting", command)
	}
	if _, err := qmpExchange(dec, enc, "qmp_capabilities", nil); err != nil {
		return nil, fmt.Errorf("qmp %s: %w", command, err)
	}
	ret, err := qmpExchange(dec, enc, command, args)
	if err != nil {
		if command == "quit" && errors.Is(err, io.EOF) {
			return nil, nil // QEMU may close before answering
		}
		return nil, fmt.Errorf("qmp %s: %w", command, err)
	}
	return ret, nil
}

func qmpExchange(dec *json.Decoder, enc *json.Encoder, command string, args any) (json.RawMessage, error) {
	req := map[string]any{"execute": command}
	if args != nil {
		req["arguments"] = args
	}
	if err := enc.Encode(req); err != nil {
		return nil, fmt.Errorf("send %s: %w", command, err)
	}
	for {
		var m qmpMessage
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("read %s reply: %w", command, err)
		}
		switch {
		case m.Event != "":
			continue
		case m.Error != nil:
			return nil, fmt.Errorf("%s: %s: %s", command, m.Error.Class, m.Error.Desc)
		default:
			return m.Return, nil
		}
	}
}
