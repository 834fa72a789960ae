// Command moat is the moat server and its tools, in one binary: a
// self-hosted IoT platform compatible with AWS IoT Core.
//
// This package only turns arguments into a config.Config, builds the server
// and runs it until SIGINT or SIGTERM; everything else lives in internal/.
// `moat help` lists the subcommands; `moat serve --help` lists every setting.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/moat-iot/moat/internal/config"
	"github.com/moat-iot/moat/internal/server"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	// The first SIGINT or SIGTERM cancels ctx and starts a graceful stop;
	// stop then restores the default handling, so a second signal ends the
	// process at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr, serve)
	stop()
	os.Exit(code)
}

// serve builds the server from a validated config and runs it until ctx is
// cancelled. It is the only place that touches internal/server.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	srv, err := server.New(cfg, log)
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}
