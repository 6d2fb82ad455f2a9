package main

// Maintainer scripts. The service is not enabled or started on
// installation: an HA director needs its configuration first, and a package
// upgrade does not restart a running one either (a restart is a failover;
// do it with havsd handover first). They only keep systemd's view current
// and stop the service on removal.

const postinst = `#!/bin/sh
set -e
if [ "$1" = configure ] && [ -d /run/systemd/system ]; then
	systemctl --system daemon-reload >/dev/null || true
	if [ -n "$2" ] && systemctl --quiet is-active havsd.service; then
		echo "havsd: the running director still runs the old binary; restart it when convenient (havsd handover first, on the master)."
	fi
fi
exit 0
`

const prerm = `#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ] && command -v deb-systemd-invoke >/dev/null; then
	deb-systemd-invoke stop havsd.service >/dev/null || true
fi
exit 0
`

const postrm = `#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
	systemctl --system daemon-reload >/dev/null || true
fi
if [ "$1" = purge ]; then
	# Left by "systemctl enable havsd"; dpkg removes the conffile itself.
	rm -f /etc/systemd/system/multi-user.target.wants/havsd.service
fi
exit 0
`
