#!/usr/bin/env python3
"""A FUSE file system that answers INIT and nothing after: every lookup in
it waits until the caller is killed. Run in a mount namespace of its own
(unshare -Urm); argv[1]: where to mount it, argv[2]: seconds to stay."""
import ctypes, os, struct, sys, time
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open("/dev/fuse", os.O_RDWR)
opts = ("fd=%d,rootmode=40000,user_id=0,group_id=0" % fd).encode()
if libc.mount(b"bpfdtest", sys.argv[1].encode(), b"fuse", 0, opts) != 0:
    sys.exit("mount: %s" % os.strerror(ctypes.get_errno()))
req = os.read(fd, 1 << 20)
length, opcode, unique = struct.unpack_from("<IIQ", req)
assert opcode == 26, opcode  # FUSE_INIT
init_out = struct.pack("<IIIIHHIIHHI", 7, 31, 0, 0, 16, 12, 4096, 1, 0, 0, 0) + b"\0" * 28
os.write(fd, struct.pack("<IiQ", 16 + len(init_out), 0, unique) + init_out)
sys.stdout.write("ready\n"); sys.stdout.flush()
time.sleep(float(sys.argv[2]))
