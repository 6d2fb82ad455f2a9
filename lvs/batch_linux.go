package lvs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"

	"github.com/mdlayher/netlink"
)

// Batched writes. moby/ipvs sends one request and waits for its answer,
// allocating a 64 KiB receive buffer each time; programming 10,000 services
// that way took 4.7 times as long as ipvsadm -R in the VM. WriteOps encodes
// the same requests itself and sends them many to a system call: the kernel
// handles the messages of one send in order and acknowledges each, so the
// semantics are those of one request at a time.

// IPVS generic-netlink commands and destination attributes
// (include/uapi/linux/ip_vs.h).
const (
	ipvsCmdNewService = 1
	ipvsCmdSetService = 2
	ipvsCmdDelService = 3
	ipvsCmdNewDest    = 5
	ipvsCmdSetDest    = 6
	ipvsCmdDelDest    = 7
	ipvsCmdAttrDest   = 2

	destAttrAddr      = 1
	destAttrPort      = 2
	destAttrFwdMethod = 3
	destAttrWeight    = 4
	destAttrUThresh   = 5
	destAttrLThresh   = 6
	destAttrAF        = 11

	// writeBatch is how many requests go out per system call; their
	// acknowledgements must fit the socket's receive buffer.
	writeBatch = 64
)

var _ BatchWriter = (*IPVS)(nil)

// WriteOps applies ops in order, writeBatch requests per system call.
func (t *IPVS) WriteOps(ops []Op) []error {
	t.mu.Lock()
	defer t.mu.Unlock()
	errs := make([]error, len(ops))
	for start := 0; start < len(ops); start += writeBatch {
		end := min(len(ops), start+writeBatch)
		msgs := make([]netlink.Message, 0, end-start)
		for i := start; i < end; i++ {
			m, err := encodeOp(t.family, ops[i])
			if err != nil {
				return fill(errs, start, err)
			}
			msgs = append(msgs, m)
		}
		if _, err := t.conn.SendMessages(msgs); err != nil {
			return fill(errs, start, fmt.Errorf("sending IPVS requests: %w", err))
		}
		// One acknowledgement per request, in order.
		for i := start; i < end; {
			got, err := t.conn.Receive()
			var oe *netlink.OpError
			switch {
			case errors.As(err, &oe) && isErrno(oe.Err):
				errs[i] = oe.Err
				i++
			case err != nil:
				return fill(errs, i, fmt.Errorf("reading IPVS acknowledgements: %w", err))
			default:
				i += len(got)
			}
		}
	}
	return errs
}

func isErrno(err error) bool {
	var e syscall.Errno
	return errors.As(err, &e)
}

// fill sets every error from i on that is still nil.
func fill(errs []error, i int, err error) []error {
	for ; i < len(errs); i++ {
		if errs[i] == nil {
			errs[i] = err
		}
	}
	return errs
}

// encodeOp builds the request for one operation, with the attributes
// moby/ipvs and ipvsadm send.
func encodeOp(family uint16, op Op) (netlink.Message, error) {
	var cmd uint8
	full := false
	switch op.Kind {
	case OpAddService:
		cmd, full = ipvsCmdNewService, true
	case OpUpdateService:
		cmd, full = ipvsCmdSetService, true
	case OpDelService:
		cmd = ipvsCmdDelService
	case OpAddDest:
		cmd = ipvsCmdNewDest
	case OpUpdateDest:
		cmd = ipvsCmdSetDest
	case OpDelDest:
		cmd = ipvsCmdDelDest
	default:
		return netlink.Message{}, fmt.Errorf("invalid operation kind %d", uint8(op.Kind))
	}
	ae := netlink.NewAttributeEncoder()
	ae.Nested(ipvsCmdAttrSvc, func(a *netlink.AttributeEncoder) error {
		encodeService(a, op.Service, full)
		return nil
	})
	if op.IsDest() {
		ae.Nested(ipvsCmdAttrDest, func(a *netlink.AttributeEncoder) error {
			encodeDest(a, op.Dest, op.Kind != OpDelDest)
			return nil
		})
	}
	attrs, err := ae.Encode()
	if err != nil {
		return netlink.Message{}, err
	}
	return netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(family), Flags: netlink.Request | netlink.Acknowledge},
		Data:   append([]byte{cmd, 1, 0, 0}, attrs...),
	}, nil
}

func encodeService(a *netlink.AttributeEncoder, s Service, full bool) {
	m := toMobyService(s) // the same field mapping as the single-call path
	c := s.Canonical()
	a.Uint16(svcAttrAF, m.AddressFamily)
	if c.Key.FWMark != 0 {
		a.Uint32(svcAttrFWMark, c.Key.FWMark)
	} else {
		a.Uint16(svcAttrProtocol, m.Protocol)
		a.Bytes(svcAttrAddr, c.Key.Addr.AsSlice())
		a.Bytes(svcAttrPort, binary.BigEndian.AppendUint16(nil, c.Key.Port))
	}
	if !full {
		return
	}
	a.String(svcAttrSchedName, m.SchedName)
	if m.PEName != "" {
		a.String(svcAttrPEName, m.PEName)
	}
	flags := binary.NativeEndian.AppendUint32(nil, m.Flags)
	a.Bytes(svcAttrFlags, binary.NativeEndian.AppendUint32(flags, 0xffffffff))
	a.Uint32(svcAttrTimeout, m.Timeout)
	a.Uint32(svcAttrNetmask, m.Netmask)
}

func encodeDest(a *netlink.AttributeEncoder, d Destination, full bool) {
	addr := d.Addr.Unmap()
	a.Bytes(destAttrAddr, addr.AsSlice())
	a.Bytes(destAttrPort, binary.BigEndian.AppendUint16(nil, d.Port))
	if !full {
		return
	}
	a.Uint32(destAttrFwdMethod, fwdFlags(d.Forward))
	a.Uint32(destAttrWeight, uint32(max(d.Weight, 0)))
	a.Uint32(destAttrUThresh, d.UpperThreshold)
	a.Uint32(destAttrLThresh, d.LowerThreshold)
	a.Uint16(destAttrAF, afOf(FamilyOf(addr)))
}
