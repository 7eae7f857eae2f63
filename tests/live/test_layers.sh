#!/bin/bash
# The layer rules of user/ that the kernel layer owns, read from the source
# (no root, no network): only user/kernel/ calls bpf_map_* / bpf_obj_* or
# libbpf's ring buffer and skeleton, and kernel/ and lib/ include nothing
# from a layer above them (scripts/layers.sh prints the whole graph).
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/lib.sh

out=$(grep -rnE 'bpf_map_[a-z_]+\(|bpf_obj_[a-z_]+\(|ring_buffer__|mxguard\.skel\.h|<bpf/' \
	user --include='*.[ch]' | grep -v '^user/kernel/')
[ -z "$out" ] && pass only_the_kernel_layer_calls_bpf_maps_links_and_libbpf ||
	fail only_the_kernel_layer_calls_bpf_maps_links_and_libbpf "$out"

up=$(scripts/layers.sh | grep -E '^(kernel|lib) .* UP ')
[ -z "$up" ] && pass kernel_and_lib_include_no_layer_above_them ||
	fail kernel_and_lib_include_no_layer_above_them "$up"

summary
