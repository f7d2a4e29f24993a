/*
 * Before the common program: its maps (and those of path.bpf.c and
 * proc.bpf.c) are shared with the drop-in tracers, each of which is
 * compiled as a BCC module of its own. A drop-in's module, compiled with
 * BPFD_DROPIN, declares each map pinned at BPFD_SHARED_PINS/NAME, where
 * the loader process pinned the running maps in a BPF filesystem of its
 * own (bpf/loader.c, pin_shared()): BCC then uses the pinned map instead
 * of making one, so every tracer has one ring buffer, one set of
 * prefilter and container maps. shared_end.bpf.h puts BCC's macros back,
 * so that a tracer's own maps are its module's.
 */
#pragma push_macro("BPF_F_TABLE")
#pragma push_macro("BPF_RINGBUF_OUTPUT")
#undef BPF_F_TABLE
#undef BPF_RINGBUF_OUTPUT
#ifdef BPFD_DROPIN
#define BPFD_MAP_SECTION(type, name) "maps/" type ":" BPFD_SHARED_PINS "/" #name
#else
#define BPFD_MAP_SECTION(type, name) "maps/" type
#endif
/* As BCC's helpers.h has them, but for the section. */
#define BPF_F_TABLE(_table_type, _key_type, _leaf_type, _name, _max_entries, _flags)           \
	struct _name##_table_t {                                                               \
		_key_type key;                                                                 \
		_leaf_type leaf;                                                               \
		_leaf_type *(*lookup)(_key_type *);                                            \
		_leaf_type *(*lookup_or_init)(_key_type *, _leaf_type *);                      \
		_leaf_type *(*lookup_or_try_init)(_key_type *, _leaf_type *);                  \
		int (*update)(_key_type *, _leaf_type *);                                      \
		int (*insert)(_key_type *, _leaf_type *);                                      \
		int (*delete)(_key_type *);                                                    \
		void (*call)(void *, int index);                                               \
		void (*increment)(_key_type, ...);                                             \
		void (*atomic_increment)(_key_type, ...);                                      \
		int (*get_stackid)(void *, u64);                                               \
		u32 max_entries;                                                               \
		int flags;                                                                     \
	};                                                                                     \
	__attribute__((section(BPFD_MAP_SECTION(_table_type, _name)))) struct _name##_table_t  \
		_name = { .flags = (_flags), .max_entries = (_max_entries) }
#define BPF_RINGBUF_OUTPUT(_name, _num_pages)                                                  \
	struct _name##_table_t {                                                               \
		int key;                                                                       \
		u32 leaf;                                                                      \
		int (*ringbuf_output)(void *, u64, u64);                                       \
		void *(*ringbuf_reserve)(u64);                                                 \
		void (*ringbuf_discard)(void *, u64);                                          \
		void (*ringbuf_submit)(void *, u64);                                           \
		u32 max_entries;                                                               \
	};                                                                                     \
	__attribute__((section(BPFD_MAP_SECTION("ringbuf", _name)))) struct _name##_table_t    \
		_name = { .max_entries = ((_num_pages) * PAGE_SIZE) }
