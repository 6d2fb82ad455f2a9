package lvs

import (
	"errors"
	"fmt"
	"syscall"
)

// Table is the narrow view of the kernel's IPVS table the reconciler needs.
// Implementations need not be safe for concurrent use unless they say so;
// the netlink one is.
type Table interface {
	// Services returns every virtual service with its destinations and
	// counters.
	Services() ([]Service, error)
	// Service returns one service with its destinations and counters; ok
	// is false when the table has no such service.
	Service(k ServiceKey) (s Service, ok bool, err error)
	// NewService creates a service from its attributes; destinations in s
	// are ignored.
	NewService(s Service) error
	// UpdateService changes the attributes of an existing service.
	UpdateService(s Service) error
	// DelService deletes a service and its destinations.
	DelService(k ServiceKey) error
	// NewDestination adds a real server to a service.
	NewDestination(k ServiceKey, d Destination) error
	// UpdateDestination changes a real server's weight, method or thresholds.
	UpdateDestination(k ServiceKey, d Destination) error
	// DelDestination removes a real server from a service.
	DelDestination(k ServiceKey, d DestKey) error
	// Close releases the table's resources.
	Close() error
}

// BatchWriter is implemented by tables that apply many operations at once;
// the reconciler uses it when the table offers it.
type BatchWriter interface {
	// WriteOps applies ops in order, as that many single calls would, and
	// returns one error per operation (nil for success), unwrapped.
	WriteOps(ops []Op) []error
}

// ErrNoIPVS reports that the running kernel has no IPVS support loaded.
var ErrNoIPVS = errors.New("IPVS is not available in this kernel: load ip_vs")

// Apply performs one operation on t.
func (o Op) Apply(t Table) error {
	var err error
	switch o.Kind {
	case OpAddService:
		err = t.NewService(o.Service)
	case OpUpdateService:
		err = t.UpdateService(o.Service)
	case OpDelService:
		err = t.DelService(o.Service.Key)
	case OpAddDest:
		err = t.NewDestination(o.Service.Key, o.Dest)
	case OpUpdateDest:
		err = t.UpdateDestination(o.Service.Key, o.Dest)
	case OpDelDest:
		err = t.DelDestination(o.Service.Key, o.Dest.Key())
	default:
		err = fmt.Errorf("invalid operation kind %d", uint8(o.Kind))
	}
	if err != nil {
		return &OpError{Op: o, Err: err}
	}
	return nil
}

// OpError is the failure of one operation. Its message is one line naming
// the service and, for destination operations, the real server, and
// explaining the usual cause of the kernel's error code.
type OpError struct {
	Op  Op
	Err error
}

// Unwrap returns the underlying error.
func (e *OpError) Unwrap() error { return e.Err }

// Error returns the one-line message.
func (e *OpError) Error() string {
	o := e.Op
	what := fmt.Sprintf("%s service %s", verb(o.Kind), o.Service.Key)
	if o.IsDest() {
		what = fmt.Sprintf("%s real server %s of service %s", verb(o.Kind), o.Dest.Key(), o.Service.Key)
	}
	return what + ": " + explain(o, e.Err)
}

func verb(k OpKind) string {
	switch k {
	case OpAddService, OpAddDest:
		return "adding"
	case OpUpdateService, OpUpdateDest:
		return "updating"
	case OpDelService, OpDelDest:
		return "deleting"
	}
	return "applying"
}

// explain turns a kernel error code into the usual cause of it for op.
func explain(o Op, err error) string {
	var errno syscall.Errno
	if errors.Is(err, ErrNoIPVS) || !errors.As(err, &errno) {
		return err.Error()
	}
	switch {
	case errno == syscall.EPERM || errno == syscall.EACCES:
		return fmt.Sprintf("permission denied: programming IPVS needs CAP_NET_ADMIN (%v)", errno)
	case (o.Kind == OpAddService || o.Kind == OpUpdateService) && (errno == syscall.ENOENT || errno == syscall.ESRCH):
		return schedMissing(o.Service, errno)
	case o.Kind == OpAddDest && errno == syscall.EINVAL:
		return fmt.Sprintf("the kernel rejected the real server: IPVS takes only a unicast address it has a route to; check the route to %s (%v)", o.Dest.Addr, errno)
	case errno == syscall.EEXIST:
		return fmt.Sprintf("already exists in the kernel table (%v)", errno)
	case errno == syscall.ESRCH || errno == syscall.ENOENT:
		return fmt.Sprintf("not in the kernel table (%v)", errno)
	case errno == syscall.EAFNOSUPPORT:
		return fmt.Sprintf("address family not supported by this kernel's IPVS (%v)", errno)
	case errno == syscall.EOPNOTSUPP:
		return fmt.Sprintf("this kernel's IPVS does not support this combination (%v)", errno)
	}
	return errno.Error()
}

// minKernel lists schedulers younger than the rest with the kernel that
// brought them.
var minKernel = map[string]string{"twos": "6.2", "mh": "4.18", "fo": "4.2", "ovf": "4.3"}

func schedMissing(s Service, errno syscall.Errno) string {
	sched := s.Scheduler
	if sched == "" {
		sched = DefaultScheduler
	}
	msg := fmt.Sprintf("scheduler %q is not available in this kernel", sched)
	if v, ok := minKernel[sched]; ok {
		msg += fmt.Sprintf(" (needs Linux %s+)", v)
	}
	if s.PE != "" {
		msg += fmt.Sprintf(", or persistence engine %q is not (modprobe ip_vs_pe_%s)", s.PE, s.PE)
	}
	return fmt.Sprintf("%s (%v)", msg, errno)
}
