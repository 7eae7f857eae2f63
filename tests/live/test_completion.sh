#!/bin/bash
# The bash completion that `mxguard completion bash` prints: every command
# `mxguard --help` lists and every option each `mxguard CMD -h` lists
# completes, nothing else is offered, and option arguments complete to
# what they name (files, directories, interfaces, choices, config keys).
# The completion function is driven directly (COMP_WORDS, COMP_CWORD,
# COMPREPLY), so neither a terminal nor the bash-completion package is needed.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/lib.sh
BUILD=${BUILD:-build}
D=$(mktemp -d)
on_exit "rm -rf $D"

if ! "$MXG" completion bash >"$D/mxguard.bash" 2>"$D/err" || ! bash -n "$D/mxguard.bash"; then
	fail completion_bash_prints_a_valid_script "$(head -3 "$D/err")"
	summary
	exit
fi
pass completion_bash_prints_a_valid_script

# shellcheck disable=SC1091
. "$D/mxguard.bash"
if [ "$(complete -p mxguard 2>/dev/null)" = "complete -F _mxguard mxguard" ]; then
	pass script_registers_a_completion_for_mxguard
else
	fail script_registers_a_completion_for_mxguard "$(complete -p mxguard 2>&1)"
fi

# comp WORD...: what completing the last WORD of "WORD..." offers, one a line.
comp() {
	local COMP_WORDS=("$@") COMP_CWORD=$(($# - 1)) COMP_LINE="$*" COMP_POINT
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_mxguard mxguard "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" 2>/dev/null
	[ ${#COMPREPLY[@]} -gt 0 ] && printf '%s\n' "${COMPREPLY[@]}"
}

# has LIST WORD: WORD is a line of LIST.
has() { printf '%s\n' "$1" | grep -qxF -- "$2"; }

# The commands as mxguard --help lists them.
cmds=$("$MXG" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')
if [ "$(echo "$cmds" | wc -w)" -ge 10 ]; then
	pass help_lists_the_commands
else
	fail help_lists_the_commands "found: $cmds"
fi

missing=
for c in $cmds; do
	has "$(comp mxguard "${c:0:2}")" "$c" || missing="$missing $c"
done
[ -z "$missing" ] && pass every_command_in_help_completes_from_its_first_two_letters ||
	fail every_command_in_help_completes_from_its_first_two_letters "missing:$missing"

offered=$(comp mxguard "")
extra=
for w in $offered; do
	case $w in -*) continue ;; esac
	has "$cmds" "$w" || extra="$extra $w"
done
[ -z "$extra" ] && pass only_commands_in_help_are_offered ||
	fail only_commands_in_help_are_offered "not in --help:$extra"

# For each command: the options its -h lists, long and short, are exactly
# what "--" and "-" complete to.
long_missing='' long_extra='' short_missing=''
for c in $cmds; do
	help=$("$MXG" "$c" -h 2>&1)
	want_long=$(echo "$help" |
		sed -n '/^Options:/,$s/^ *\(-[a-zA-Z], \)\{0,1\}\(--[a-z][a-z-]*\).*/\2/p')
	want_short=$(echo "$help" | sed -n '/^Options:/,$s/^  \(-[a-zA-Z]\), --.*/\1/p')
	got_long=$(comp mxguard "$c" --)
	got_short=$(comp mxguard "$c" -)
	[ -z "$want_long" ] && long_missing="$long_missing $c:(-h lists none)"
	for o in $want_long; do
		has "$got_long" "$o" || long_missing="$long_missing $c:$o"
	done
	for o in $got_long; do
		has "$want_long" "$o" || long_extra="$long_extra $c:$o"
	done
	for o in $want_short; do
		has "$got_short" "$o" || short_missing="$short_missing $c:$o"
	done
done
[ -z "$long_missing" ] && pass every_long_option_in_each_commands_help_completes ||
	fail every_long_option_in_each_commands_help_completes "missing:$long_missing"
[ -z "$long_extra" ] && pass no_long_option_completes_that_help_does_not_list ||
	fail no_long_option_completes_that_help_does_not_list "extra:$long_extra"
[ -z "$short_missing" ] && pass every_short_option_in_each_commands_help_completes ||
	fail every_short_option_in_each_commands_help_completes "missing:$short_missing"

has "$(comp mxguard run --mon)" --monitor &&
	! has "$(comp mxguard run --mon)" --json &&
	pass long_option_prefix_completes_to_that_option ||
	fail long_option_prefix_completes_to_that_option "$(comp mxguard run --mon)"

# Option arguments.
mkdir "$D/sub"
: >"$D/mail.log"
got=$(comp mxguard run --config "$D/ma")
has "$got" "$D/mail.log" && pass config_argument_completes_file_names ||
	fail config_argument_completes_file_names "$got"
got=$(comp mxguard run -c "$D/ma")
has "$got" "$D/mail.log" && pass short_config_argument_completes_file_names ||
	fail short_config_argument_completes_file_names "$got"
got=$(comp mxguard run --log "$D/")
has "$got" "$D/mail.log" && pass log_argument_completes_file_names ||
	fail log_argument_completes_file_names "$got"
got=$(comp mxguard scan "$D/ma")
has "$got" "$D/mail.log" && pass scan_operand_completes_file_names ||
	fail scan_operand_completes_file_names "$got"

# Names are offered as they are: not split at spaces, not expanded as globs.
mkdir "$D/g"
: >"$D/g/x y"
: >"$D/g/x*"
got=$(comp mxguard scan "$D/g/x")
want=$(printf '%s\n' "$D/g/x y" "$D/g/x*" | sort)
[ "$(echo "$got" | sort)" = "$want" ] &&
	pass file_names_with_spaces_and_stars_complete_as_they_are ||
	fail file_names_with_spaces_and_stars_complete_as_they_are "$got"

got=$(comp mxguard run --state-dir "$D/")
has "$got" "$D/sub" && ! has "$got" "$D/mail.log" &&
	pass state_dir_argument_completes_directories_only ||
	fail state_dir_argument_completes_directories_only "$got"
got=$(comp mxguard status --pin-dir "$D/")
has "$got" "$D/sub" && ! has "$got" "$D/mail.log" &&
	pass pin_dir_argument_completes_directories_only ||
	fail pin_dir_argument_completes_directories_only "$got"

ifaces=$(ls /sys/class/net)
first=$(echo "$ifaces" | head -1)
got=$(comp mxguard run -i "")
ok=1
for i in $ifaces; do has "$got" "$i" || ok=0; done
[ "$ok" = 1 ] && [ "$(echo "$got" | wc -l)" = "$(echo "$ifaces" | wc -l)" ] &&
	pass interface_argument_completes_the_interfaces_in_sys_class_net ||
	fail interface_argument_completes_the_interfaces_in_sys_class_net "got: $got"
got=$(comp mxguard run --interface "${first:0:1}")
has "$got" "$first" && pass long_interface_argument_completes_interface_names ||
	fail long_interface_argument_completes_interface_names "$got"

got=$(comp mxguard run --xdp-mode "")
[ "$(echo $got)" = "auto native generic" ] && pass xdp_mode_argument_completes_its_choices ||
	fail xdp_mode_argument_completes_its_choices "$got"
got=$(comp mxguard run --xdp-mode = n)
[ "$got" = native ] && pass xdp_mode_after_equals_completes_its_choices ||
	fail xdp_mode_after_equals_completes_its_choices "$got"

got=$(comp mxguard run -o max)
has "$got" "maxretry=" && pass option_argument_completes_config_keys_from_the_table ||
	fail option_argument_completes_config_keys_from_the_table "$got"

got=$(comp mxguard ban --for "")
[ -z "$got" ] && pass duration_argument_offers_nothing ||
	fail duration_argument_offers_nothing "$got"
got=$(comp mxguard ban "")
[ -z "$got" ] && pass cidr_operand_offers_nothing || fail cidr_operand_offers_nothing "$got"

got=$(comp mxguard allow "")
[ "$(echo $got)" = "add del list" ] && pass allow_completes_its_subcommands ||
	fail allow_completes_its_subcommands "$got"
got=$(comp mxguard allow --json "")
[ "$(echo $got)" = "add del list" ] && pass allow_subcommand_completes_after_a_flag ||
	fail allow_subcommand_completes_after_a_flag "$got"
got=$(comp mxguard allow add "")
[ -z "$got" ] && pass allow_add_completes_no_second_subcommand ||
	fail allow_add_completes_no_second_subcommand "$got"

# Flags that take no argument do not swallow the next word.
got=$(comp mxguard scan --json "$D/ma")
has "$got" "$D/mail.log" && pass operand_after_a_flag_completes_file_names ||
	fail operand_after_a_flag_completes_file_names "$got"

# The completion command itself is not one of the commands --help lists.
! has "$cmds" completion && pass completion_command_is_hidden_from_help ||
	fail completion_command_is_hidden_from_help

"$MXG" completion zsh >/dev/null 2>"$D/err"
rc=$?
[ "$rc" = 2 ] && grep -q zsh "$D/err" && pass completion_for_an_unknown_shell_is_a_usage_error ||
	fail completion_for_an_unknown_shell_is_a_usage_error "exit $rc: $(cat "$D/err")"

# The build makes the file that make install puts where bash-completion looks.
if [ -f "$BUILD/mxguard.bash" ] && cmp -s "$BUILD/mxguard.bash" "$D/mxguard.bash"; then
	pass build_completion_file_is_the_generated_script
else
	fail build_completion_file_is_the_generated_script "$BUILD/mxguard.bash differs or is missing"
fi
if make --no-print-directory -s install DESTDIR="$D/root" BUILD="$BUILD" >"$D/install.out" 2>&1 &&
	cmp -s "$D/root/usr/share/bash-completion/completions/mxguard" "$D/mxguard.bash"; then
	pass install_puts_the_completion_where_bash_completion_looks
else
	fail install_puts_the_completion_where_bash_completion_looks "$(tail -3 "$D/install.out")"
fi

summary
