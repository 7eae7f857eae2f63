#!/bin/bash
# The layer rules of user/ that the kernel layer owns, read from the source
# (no root, no network): only user/kernel/ calls bpf_map_* / bpf_obj_* or
# libbpf's ring buffer and skeleton, and kernel/ and lib/ include nothing
# from a layer above them (scripts/layers.sh prints the whole graph); and
# the docs name every map of the kernel layer's list.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/lib.sh

out=$(grep -rnE 'bpf_map_[a-z_]+\(|bpf_obj_[a-z_]+\(|ring_buffer__|mxguard\.skel\.h|<bpf/' \
	user --include='*.[ch]' | grep -v '^user/kernel/')
[ -z "$out" ] && pass only_the_kernel_layer_calls_bpf_maps_links_and_libbpf ||
	fail only_the_kernel_layer_calls_bpf_maps_links_and_libbpf "$out"

up=$(scripts/layers.sh | grep -E '^(kernel|lib) .* UP ')
[ -z "$up" ] && pass kernel_and_lib_include_no_layer_above_them ||
	fail kernel_and_lib_include_no_layer_above_them "$up"

# Dependencies point one way, cmd -> daemon -> policy/detect/logs -> kernel -> lib.
up=$(scripts/layers.sh | grep -E ' UP ')
[ -z "$up" ] && pass no_layer_includes_a_layer_above_it ||
	fail no_layer_includes_a_layer_above_it "$up"

# The README's paragraph on the pinned maps and the man page's FILES name
# every map of the list (MXG_MAPS in user/kernel/maps.h).
maps=$(sed -n 's/^\tX(\([a-z0-9_]*\),.*/\1/p' user/kernel/maps.h)
readme=$(sed -n '/^The maps under/,/^$/p' README.md)
man=$(sed -n '/^\.BR config /,/^\.BR rate_v4/p' man/mxguard.8)
missing=""
for m in $maps; do
	echo "$readme" | grep -q "\`$m\`" || missing+=" README:$m"
	echo "$man" | grep -qw "$m" || missing+=" man:$m"
done
[ -n "$maps" ] && [ -z "$missing" ] && pass readme_and_man_page_name_every_map_of_the_list ||
	fail readme_and_man_page_name_every_map_of_the_list "maps: $(echo $maps); missing:$missing"

summary
