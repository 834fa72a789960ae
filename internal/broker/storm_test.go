package broker_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	paho5packets "github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"

	"github.com/moat-iot/moat/internal/moattest"
)

// TestReconnectStorm checks admission control: while hundreds of devices
// connect at once (TLS handshakes, CONNECT, then disconnect), a client
// that is already connected keeps getting its acknowledgements promptly,
// and every storm connection is eventually served.
func TestReconnectStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("a few seconds of load; not in -short")
	}
	srv := moattest.Start(t)
	policy := strings.NewReplacer("REGION", srv.Config.Region, "ACCOUNT", srv.Config.AccountID).Replace(`{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:REGION:ACCOUNT:client/*"},
 {"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:REGION:ACCOUNT:topic/probe/*"}]}`)
	dev := srv.NewDevice(t, "", policy)
	probe, _, err := client5(t, srv, &dev, "probe", nil)
	if err != nil {
		t.Fatal(err)
	}

	const storm = 300
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	start := make(chan struct{})
	for i := 0; i < storm; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			id := fmt.Sprintf("storm-%d", i)
			conn, err := tls.Dial("tcp", srv.MQTTAddr, srv.MQTTTLS(&dev))
			if err == nil {
				c := paho.NewClient(paho.ClientConfig{ClientID: id, Conn: paho5packets.NewThreadSafeConn(conn)})
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				_, err = c.Connect(ctx, &paho.Connect{ClientID: id, KeepAlive: 30, CleanStart: true})
				cancel()
				if err == nil {
					err = c.Disconnect(&paho.Disconnect{})
				}
				conn.Close()
			}
			if err != nil {
				mu.Lock()
				failures = append(failures, id+": "+err.Error())
				mu.Unlock()
			}
		}()
	}
	close(start)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	// Probe: QoS 1 round trips while the storm runs.
	var worst time.Duration
	probes := 0
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		t0 := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := probe.Publish(ctx, &paho.Publish{Topic: "probe/x", QoS: 1, Payload: []byte("ping")})
		cancel()
		if err != nil {
			t.Fatalf("connected client failed during the storm: %v", err)
		}
		worst = max(worst, time.Since(t0))
		probes++
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("storm of %d connections: %d probes, worst round trip %v", storm, probes, worst)
	if len(failures) > 0 {
		t.Fatalf("%d of %d storm connections failed, e.g. %s", len(failures), storm, failures[0])
	}
	// Generous for -race on 2 cores; without admission control the probe
	// waits behind every handshake at once.
	if worst > 3*time.Second {
		t.Fatalf("worst probe round trip %v during the storm", worst)
	}
}
