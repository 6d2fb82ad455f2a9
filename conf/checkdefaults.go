package conf

import "time"

// keepalived's check defaults by kind (keepalived.conf(5), 2.2): retry is
// 1 (DNS_CHECK 3, MISC_CHECK 0); delay_before_retry is 3s for HTTP_GET and
// SSL_GET, delay_loop for DNS_CHECK, 1s otherwise. delay_loop (interval) is
// 60s and connect_timeout (timeout) 5s for every kind.

func defaultRetry(kind string) int {
	switch kind {
	case "dns":
		return 3
	case "script":
		return 0
	}
	return 1
}

func defaultDelayBeforeRetry(kind string, interval time.Duration) time.Duration {
	switch kind {
	case "http", "https":
		return 3 * time.Second
	case "dns":
		return interval
	}
	return DefaultDelayBeforeRetry
}
