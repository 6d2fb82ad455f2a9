package lvs

import (
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestForMsgs walks a datagram as the kernel sends a batch's answers: an
// error for one request (by sequence number), an acknowledgement, a dump
// part, and the end of the dump.
func TestForMsgs(t *testing.T) {
	errPayload := func(code int32) []byte { return append(ne.AppendUint32(nil, uint32(code)), make([]byte, 16)...) }
	var b []byte
	b = appendMsg(b, unix.NLMSG_ERROR, 0, 7, errPayload(-int32(syscall.EINVAL)))
	b = appendMsg(b, unix.NLMSG_ERROR, 0, 8, errPayload(0))
	b = appendMsg(b, 0x20, unix.NLM_F_MULTI, 9, []byte{4, 1, 0, 0, 1}) // padded to 4
	b = appendMsg(b, unix.NLMSG_DONE, unix.NLM_F_MULTI, 9, ne.AppendUint32(nil, 0))
	type seen struct {
		seq   uint32
		errno syscall.Errno
		n     int
	}
	var got []seen
	if err := forMsgs(b, func(m nlMsg) bool {
		got = append(got, seen{m.seq, m.errno(), len(m.data)})
		return true
	}); err != nil {
		t.Fatal(err)
	}
	want := []seen{{7, syscall.EINVAL, 20}, {8, 0, 20}, {9, 0, 5}, {9, 0, 4}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("message %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if err := forMsgs(b[:20], func(nlMsg) bool { return true }); err == nil {
		t.Error("a truncated message was accepted")
	}
}
