# Key=value state files of an edgebench virtual device (sourced by settings, cmd, input, svc,
# dumpsys). They live in /data/vendor/edgebench/, where the device's host reads them (power model).
STATE_DIR=/data/vendor/edgebench

kv_get() { # kv_get FILE KEY DEFAULT
	local line
	if [ -r "$STATE_DIR/$1" ]; then
		while IFS= read -r line; do
			case $line in
			"$2="*) print -r -- "${line#*=}"; return 0 ;;
			esac
		done < "$STATE_DIR/$1"
	fi
	print -r -- "$3"
}

kv_set() { # kv_set FILE KEY VALUE (an empty VALUE with kv_del)
	local file=$STATE_DIR/$1 tmp=$STATE_DIR/$1.$$ line
	{
		if [ -r "$file" ]; then
			while IFS= read -r line; do
				case $line in "$2="*) ;; *) print -r -- "$line" ;; esac
			done < "$file"
		fi
		[ -n "$4" ] || print -r -- "$2=$3"
	} > "$tmp" && mv -f "$tmp" "$file"
}

kv_del() { kv_set "$1" "$2" "" delete; }
