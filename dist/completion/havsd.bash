# bash completion for havsd. Generated from its command table and -h output; do not edit.
# Regenerate: go test ./cmd/havsd -run TestGeneratedDocs -update
_havsd() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} flags files dirs
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "run check export import status reload handover resume drain undrain dump debug realserver digest lab drill version" -- "$cur"))
		return
	fi
	case ${COMP_WORDS[1]} in
	run) flags="-f -log-format -log-level" files="-f" dirs="" ;;
	check) flags="-f -from -host -q -router-id" files="-f" dirs="" ;;
	export) flags="-f" files="-f" dirs="" ;;
	import) flags="-from -o -router-id" files="-o" dirs="" ;;
	status) flags="-f -interval -json -s -watch" files="-f -s" dirs="" ;;
	reload) flags="-f -s" files="-f -s" dirs="" ;;
	handover) flags="-f -s" files="-f -s" dirs="" ;;
	resume) flags="-f -s" files="-f -s" dirs="" ;;
	drain) flags="-f -for -s -wait" files="-f -s" dirs="" ;;
	undrain) flags="-f -s" files="-f -s" dirs="" ;;
	dump) flags="-f -s" files="-f -s" dirs="" ;;
	debug) flags="-debug -f -gc -s" files="-f -s" dirs="" ;;
	realserver) flags="-dev -force -mode -state -undo -vip" files="" dirs="-state" ;;
	digest) flags="-H -any-status -k -max-body -timeout -verify" files="" dirs="" ;;
	lab) flags="-advert -dir -director -directors -events -hold -interval -json -keep -mode -mtbf -n -prefix -reals -share -sources -state-dir -streams -target -timeout -vm -vm-cache -vrrp-version" files="-json" dirs="-dir -state-dir -vm-cache" ;;
	drill) flags="-dev -event -exec -hold -interval -lead -mtbf -n -netns -pause -restore -s -settle -stream-gap -streams -target -timeout" files="-s" dirs="" ;;
	version) flags="" files="" dirs="" ;;
	esac
	if [[ " $files " == *" $prev "* ]]; then
		COMPREPLY=($(compgen -f -- "$cur"))
	elif [[ " $dirs " == *" $prev "* ]]; then
		COMPREPLY=($(compgen -d -- "$cur"))
	else
		COMPREPLY=($(compgen -W "$flags" -- "$cur"))
	fi
}
complete -F _havsd havsd
