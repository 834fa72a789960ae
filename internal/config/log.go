package config

import (
	"fmt"
	"io"
	"log/slog"
)

// NewLogger returns the logger c asks for, writing to w (stderr in moat
// serve): a slog text or JSON handler at c.LogLevel. It fails on a level or
// format that Validate would reject.
func NewLogger(c Config, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	switch c.LogLevel {
	case LogLevelDebug:
		level = slog.LevelDebug
	case LogLevelInfo:
		level = slog.LevelInfo
	case LogLevelWarn:
		level = slog.LevelWarn
	case LogLevelError:
		level = slog.LevelError
	default:
		return nil, fmt.Errorf("--log-level: must be one of debug, info, warn, error, got %q", c.LogLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.LogFormat {
	case LogFormatText:
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case LogFormatJSON:
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format: must be one of text, json, got %q", c.LogFormat)
}
