/* After the common program: BCC's own table macros again (shared_begin.bpf.h). */
#pragma pop_macro("BPF_F_TABLE")
#pragma pop_macro("BPF_RINGBUF_OUTPUT")
