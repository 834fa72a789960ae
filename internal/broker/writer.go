package broker

import (
	"bufio"
	"sync"
	"time"

	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// outItem is one packet queued for a connection: a PUBLISH delivery of a
// shared encoding, or an encoded control packet.
type outItem struct {
	sp  packet.SharedPublish
	d   packet.Delivery
	raw []byte
	// alias, for a client that accepts topic aliases, is the delivery to
	// encode at write time with a server topic alias (the writer owns the
	// connection's alias map, so aliases follow the order of the stream).
	alias *aliasDelivery
}

// aliasDelivery is what the writer needs to encode an aliased PUBLISH.
type aliasDelivery struct {
	m      *message
	subIDs []uint32
	left   uint32 // message expiry left, seconds; 0: none
}

// writeBufSize is the write buffer a writer goroutine borrows while it
// drains a queue.
const writeBufSize = 16 * 1024

var writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, writeBufSize) }}

// enqueue appends items to the connection's queue and starts a writer if
// none is running. It never blocks. A connection whose queue is over the
// limit loses QoS 0 publishes (counted); control packets and QoS 1/2 (bounded
// by the in-flight window) always go in.
func (c *conn) enqueue(it outItem) {
	c.mu.Lock()
	if c.closed || c.kicked {
		c.mu.Unlock()
		return
	}
	if it.raw == nil && it.d.QoS == 0 && len(c.queue) >= c.b.lim.MaxQueuedMessages {
		c.mu.Unlock()
		c.b.m.dropped.WithLabelValues("queue_full").Inc()
		return
	}
	c.queue = append(c.queue, it)
	start := !c.writing
	c.writing = true
	if start {
		c.writer.Add(1)
	}
	c.mu.Unlock()
	if start {
		go c.writeLoop()
	}
}

// writeLoop drains the queue into the connection, then exits. A write that
// takes longer than WriteTimeout closes the connection.
func (c *conn) writeLoop() {
	bw := writers.Get().(*bufio.Writer)
	bw.Reset(c.nc)
	defer func() {
		bw.Reset(nil)
		writers.Put(bw)
		c.writer.Done()
	}()
	var batch []outItem
	for {
		c.mu.Lock()
		if len(c.queue) == 0 || c.closed {
			c.writing = false
			c.queue = c.queue[:0]
			if cap(c.queue) > 64 {
				c.queue = nil // do not keep a large queue at rest
			}
			c.mu.Unlock()
			return
		}
		batch, c.queue = c.queue, batch[:0]
		// Under mu, so that a kick's shorter deadline, set later, wins.
		_ = c.nc.SetWriteDeadline(time.Now().Add(c.b.lim.WriteTimeout))
		c.mu.Unlock()

		var err error
		for i := range batch {
			it := &batch[i]
			if it.raw != nil {
				_, err = bw.Write(it.raw)
			} else if it.alias != nil {
				_, err = c.writeAliased(bw, it)
				if err == nil {
					c.b.m.deliveredQ[it.d.QoS].Inc()
				}
			} else {
				_, err = it.sp.WriteTo(bw, it.d)
				if err == nil {
					c.b.m.deliveredQ[it.d.QoS].Inc()
				}
			}
			if err != nil {
				break
			}
		}
		if err == nil {
			err = bw.Flush()
		}
		clear(batch)
		if err != nil {
			c.log().Debug("mqtt write failed", "err", err)
			c.close()
			c.mu.Lock()
			c.writing = false
			c.mu.Unlock()
			return
		}
	}
}

// sendControl queues a control packet.
func (c *conn) sendControl(p packet.Packet) {
	b, err := packet.Encode(p, c.version)
	if err != nil {
		c.log().Error("mqtt encode failed", "packet", p.Type().String(), "err", err)
		return
	}
	c.enqueue(outItem{raw: b})
}

// sendPublish queues a PUBLISH delivery of m, checking what only the
// connection knows: message expiry and the client's Maximum Packet Size.
// Receive authorization is the caller's (session.deliver, sendLocked).
//
// It reports whether the delivery was queued.
func (c *conn) sendPublish(m *message, d packet.Delivery, subIDs []uint32) bool {
	expired, left := m.expired(time.Now())
	if expired {
		c.b.m.dropped.WithLabelValues("expired").Inc()
		return false
	}
	var sp packet.SharedPublish
	var err error
	if c.version == packet.V5 && (len(subIDs) > 0 || left > 0) {
		sp, err = m.variant(c.version, subIDs, left)
	} else {
		sp, err = m.encoded(c.version)
	}
	if err != nil {
		c.log().Error("mqtt encode failed", "topic", m.pub.Topic, "err", err)
		return false
	}
	size := sp.Size(d.QoS)
	if c.aliasMax > 0 {
		size += 3 // a first use also carries the alias property
	}
	if c.maxOut > 0 && size > int(c.maxOut) {
		// [MQTT-3.1.2-25]: too large for this client; dropped as if sent.
		c.b.m.dropped.WithLabelValues("too_large").Inc()
		return false
	}
	it := outItem{sp: sp, d: d}
	if c.aliasMax > 0 {
		it.alias = &aliasDelivery{m: m, subIDs: subIDs, left: left}
	}
	c.enqueue(it)
	return true
}

// writeAliased writes a PUBLISH with a server topic alias (MQTT 5
// 3.3.2.3.4): a topic gets the next free alias up to the client's Topic
// Alias Maximum; its first PUBLISH carries topic and alias, later ones the
// alias and an empty topic. Topics past the maximum go unaliased. Called by
// the writer goroutine only, which owns c.outAliases.
func (c *conn) writeAliased(bw *bufio.Writer, it *outItem) (int, error) {
	a := it.alias
	p := *a.m.pub
	p.Properties.SubscriptionIDs = a.subIDs
	if a.left > 0 {
		p.Properties.MessageExpiry = a.left
	}
	p.QoS, p.PacketID, p.Dup, p.Retain = it.d.QoS, it.d.PacketID, it.d.Dup, it.d.Retain
	if p.QoS == 0 {
		p.PacketID, p.Dup = 0, false
	}
	if id, ok := c.outAliases[p.Topic]; ok {
		p.Properties.TopicAlias = id
		p.Topic = ""
	} else if len(c.outAliases) < int(c.aliasMax) {
		if c.outAliases == nil {
			c.outAliases = make(map[string]uint16, c.aliasMax)
		}
		id := uint16(len(c.outAliases) + 1)
		c.outAliases[p.Topic] = id
		p.Properties.TopicAlias = id
	}
	buf, err := p.Append(c.aliasBuf[:0], c.version)
	if err != nil {
		return 0, err
	}
	if cap(buf) <= 4096 {
		c.aliasBuf = buf // kept for the next one; larger ones are not kept
	}
	return bw.Write(buf)
}
