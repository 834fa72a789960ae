package packet_test

import (
	"bufio"
	"bytes"
	"fmt"

	"github.com/moat-iot/moat/internal/mqtt/packet"
)

// A broker receives one PUBLISH and delivers it to subscribers of both
// protocol versions at different QoS, encoding it once per version.
func ExampleSharedPublish() {
	in := bytes.NewReader([]byte{0x32, 0x0A, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x07, 'h', 'i', '!'})
	msg, err := packet.NewReader(in, 0).ReadPacket(packet.V311)
	if err != nil {
		panic(err)
	}
	pub := msg.(*packet.Publish)

	type subscriber struct {
		version packet.Version
		qos     byte
		out     *bytes.Buffer
	}
	subs := []subscriber{{packet.V311, 0, new(bytes.Buffer)}, {packet.V311, 1, new(bytes.Buffer)}, {packet.V5, 1, new(bytes.Buffer)}}

	var shared [2]packet.SharedPublish // one encoding per version, made on first use
	for i, s := range subs {
		sp := &shared[s.version-packet.V311]
		if sp.Bytes() == nil {
			if *sp, err = packet.NewSharedPublish(pub, s.version); err != nil {
				panic(err)
			}
		}
		w := bufio.NewWriter(s.out)
		d := packet.Delivery{QoS: min(pub.QoS, s.qos), PacketID: uint16(100 + i)}
		if _, err := sp.WriteTo(w, d); err != nil {
			panic(err)
		}
		w.Flush()
		fmt.Printf("% x\n", s.out.Bytes())
	}
	// Output:
	// 30 08 00 03 61 2f 62 68 69 21
	// 32 0a 00 03 61 2f 62 00 65 68 69 21
	// 32 0b 00 03 61 2f 62 00 66 00 68 69 21
}
