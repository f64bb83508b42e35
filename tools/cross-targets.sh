# cross-targets.sh (sourced by tools/cross-check and tools/amalgamation-check): the foreign Linux
# ISAs the checks build for, each with its Debian cross compiler and its qemu-user (tools/setup
# installs both). SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034 # the variables are for the scripts that source this

# NAME COMPILER QEMU, in the order the checks report them.
CROSS_TARGETS=(
  "ppc powerpc-linux-gnu-gcc qemu-ppc"          # ppc32, big-endian; no lock-free 64-bit CAS
  "sparc64 sparc64-linux-gnu-gcc qemu-sparc64"  # big-endian, 64-bit
  "i386 i686-linux-gnu-gcc qemu-i386"           # 32-bit little-endian
  "armhf arm-linux-gnueabihf-gcc qemu-arm"      # 32-bit ARM (ARMv7, hard float)
)
# CROSS_NAMES: the names in that order; CROSS_CC[NAME], CROSS_QEMU[NAME].
CROSS_NAMES=()
declare -A CROSS_CC=() CROSS_QEMU=()
for _entry in "${CROSS_TARGETS[@]}"; do
  read -r _name _cc _qemu <<<"$_entry"
  CROSS_NAMES+=("$_name")
  CROSS_CC[$_name]=$_cc
  CROSS_QEMU[$_name]=$_qemu
done
unset _entry _name _cc _qemu
