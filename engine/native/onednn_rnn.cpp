// A stack of LSTM or GRU layers over a whole sequence with oneDNN's own RNN primitives (oneDNN 3.x
// from the onednn-cpu-gomp wheel), for RNN Studio's training: one forward and one backward call per
// batch, in f32 or in bfloat16 where the CPU has it.
//
// Why: MXNet 1.9.1's fused RNN operator has no bfloat16 path; oneDNN's LSTM/GRU primitives do (on
// CPUs with AVX512_BF16 or AMX). The same code runs in f32 everywhere, so tests on any CPU check the
// plumbing (layouts, gate orders, biases, the workspace kept between forward and backward) against
// MXNet's fused layer.
//
// Everything the caller sees is f32 in MXNet's layouts:
//   x (T, N, C), h0/c0/hT/cT (L, N, H), y (T, N, H),
//   per layer l: i2h_weight (G*H, C_l), h2h_weight (G*H, H), i2h_bias (G*H), h2h_bias (G*H),
// with MXNet's gate orders (LSTM i,f,g,o; GRU r,z,n, "linear before reset"). In bf16 mode the
// primitive's data and weights are bf16 (converted here each call) and its cell state, biases and
// every gradient stay f32 (oneDNN requires f32 diffs). Only the C functions at the end are exported;
// build with -fvisibility=hidden so nothing of oneDNN's C++ leaks beside the oneDNN 2.x that is
// linked statically into libmxnet.so.
#include <dlfcn.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

extern "C" int omp_get_max_threads();     // GNU OpenMP's, bound as libdnnl.so.3's calls are

namespace {

using namespace dnnl;
using dt = memory::data_type;
using tag = memory::format_tag;
using dim = memory::dim;

enum Mode { kLSTM = 0, kGRU = 1 };

// Every primitive here carries its own scratchpad (oneDNN's "user" mode). The default ("library")
// scratchpad is kept per thread and set up on the thread that creates the primitive; MXNet calls
// custom operators from a pool of threads, so a backward run on another thread than the one that
// built it read a scratchpad that was not there (it crashed in oneDNN's copy_bias_to_ws).
primitive_attr own_scratchpad() {
    primitive_attr attr;
    attr.set_scratchpad_mode(scratchpad_mode::user);
    return attr;
}

struct Runner {
    primitive prim;
    memory scratch;

    Runner() = default;
    template <typename PrimitiveDesc>
    explicit Runner(const PrimitiveDesc& pd)
        : prim(pd.get()), scratch(pd.scratchpad_desc(), pd.get_engine()) {}
    void run(stream& s, std::unordered_map<int, memory> args) {
        args[DNNL_ARG_SCRATCHPAD] = scratch;
        prim.execute(s, args);
    }
    void copy(stream& s, memory& from, memory& to) {
        run(s, {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}});
    }
};

Runner make_reorder(const memory& from, const memory& to) {
    return Runner(reorder::primitive_desc(from, to, own_scratchpad()));
}

// A caller's f32 array and the primitive's view of it: the caller's memory itself when layout
// and type agree, else a buffer of the primitive's and a reorder between the two (toward the
// primitive for an Input, toward the caller for an Output).
struct Bridge {
    memory user, prim;
    bool convert = false;
    Runner reorder_;

    Bridge() = default;
    Bridge(const engine& eng, const memory::desc& user_d, const memory::desc& prim_d, bool input)
        : user(user_d, eng, DNNL_MEMORY_NONE) {
        convert = user_d != prim_d;
        if (convert) {
            prim = memory(prim_d, eng);
            reorder_ = input ? make_reorder(user, prim) : make_reorder(prim, user);
        } else {
            prim = user;
        }
    }
    // Input: point at the caller's array and convert it for the primitive.
    memory& feed(stream& s, const void* data) {
        user.set_data_handle(const_cast<void*>(data));
        if (convert) reorder_.copy(s, user, prim);
        return prim;
    }
    // Output: where the primitive writes; finish() then converts into the caller's array.
    memory& target(void* data) {
        user.set_data_handle(data);
        return prim;
    }
    void finish(stream& s) {
        if (convert) reorder_.copy(s, prim, user);
    }
};

struct Input : Bridge {
    Input() = default;
    Input(const engine& e, const memory::desc& user_d, const memory::desc& prim_d)
        : Bridge(e, user_d, prim_d, true) {}
};

struct Output : Bridge {
    Output() = default;
    Output(const engine& e, const memory::desc& user_d, const memory::desc& prim_d)
        : Bridge(e, user_d, prim_d, false) {}
};

// MXNet's GRU gates are r,z,n; oneDNN's u(=z),r,n: swap the first two blocks of `block` floats.
void swap_first_gates(const float* from, float* to, size_t block, int gates) {
    std::memcpy(to, from + block, block * sizeof(float));
    std::memcpy(to + block, from, block * sizeof(float));
    std::memcpy(to + 2 * block, from + 2 * block, (gates - 2) * block * sizeof(float));
}

struct Layer {
    int mode;
    dim T, N, C, H, G, B;            // steps, batch, input width, hidden, gates, bias rows
    bool training;
    dt wdt;                          // the primitive's data and weights type (f32 or bf16)

    Runner fwd, bwd;
    memory::desc weights_layer_d, weights_iter_d, bias_d;
    Input x_in, h0_in, w_layer, w_iter, bw_layer, bw_iter;
    memory src_layer, src_iter_c, bias, workspace;
    Output y_out, hT_out;            // y_out: the last layer's output (others keep theirs)
    memory dst_layer, dst_iter_c;
    std::vector<float> bias_buf, perm_layer, perm_iter;   // GRU: weights in oneDNN's gate order
    // backward
    memory diff_src_layer, diff_src_iter, diff_src_iter_c, diff_dst_layer, diff_dst_iter,
        diff_dst_iter_c, diff_bias;
    Output dw_layer, dw_iter;        // oneDNN's ldigo -> MXNet's (G*H, C) layout
    std::vector<float> dbias_buf, perm_dlayer, perm_diter;   // GRU: their gradients
};

struct Stack {
    engine eng{engine::kind::cpu, 0};
    stream strm{eng};
    int mode, L;
    bool training, bf16;
    bool other_layouts;              // f32 with layouts unlike the caller's (for tests, below)
    std::vector<Layer> layers;
    std::vector<float> scratch_dx[2];   // gradients of the upper layers' inputs (ping-pong)
};

memory::desc plain(const memory::dims& d, dt t, tag g) { return memory::desc(d, t, g); }

primitive_desc make_fwd(const engine& eng, int mode, prop_kind prop, const memory::desc& src,
                        const memory::desc& src_iter, const memory::desc& src_iter_c,
                        const memory::desc& wl, const memory::desc& wi, const memory::desc& b,
                        const memory::desc& dst, const memory::desc& dst_iter,
                        const memory::desc& dst_iter_c) {
    auto dir = rnn_direction::unidirectional_left2right;
    if (mode == kLSTM)
        return lstm_forward::primitive_desc(eng, prop, dir, src, src_iter, src_iter_c, wl, wi, b,
                                            dst, dst_iter, dst_iter_c, own_scratchpad());
    return lbr_gru_forward::primitive_desc(eng, prop, dir, src, src_iter, wl, wi, b, dst,
                                           dst_iter, own_scratchpad());
}

void build_layer(Stack& s, Layer& ly, int index, dim T, dim N, dim C, dim H) {
    const engine& eng = s.eng;
    ly.mode = s.mode;
    ly.T = T, ly.N = N, ly.C = C, ly.H = H;
    ly.G = s.mode == kLSTM ? 4 : 3;
    ly.B = ly.G + (s.mode == kGRU ? 1 : 0);  // lbr_gru: a fourth bias row (the hidden n-gate's)
    ly.training = s.training;
    ly.wdt = s.bf16 ? dt::bf16 : dt::f32;
    const dt w = ly.wdt, f = dt::f32;
    const bool last = index == s.L - 1;

    // In bf16 the primitive's data differ from the caller's f32 arrays in type, so they pass
    // through reorders (Input/Output). other_layouts makes them differ in layout instead
    // (batch-major sequences, padded states) so that the same reorders run, and are tested, in f32.
    const bool other = s.other_layouts;
    auto src_d = plain({T, N, C}, w, other ? tag::ntc : tag::tnc);
    auto iter_d = other ? memory::desc({1, 1, N, H}, w, {N * (H + 3), N * (H + 3), H + 3, 1})
                        : plain({1, 1, N, H}, w, tag::ldnc);
    auto iter_c_d = plain({1, 1, N, H}, f, tag::ldnc);
    auto wl_any = memory::desc({1, 1, C, ly.G, H}, w, tag::any);
    auto wi_any = memory::desc({1, 1, H, ly.G, H}, w, tag::any);
    ly.bias_d = plain({1, 1, ly.B, H}, f, tag::ldgo);
    auto dst_d = plain({T, N, H}, w, other ? tag::ntc : tag::tnc);
    auto no_c = memory::desc();
    bool lstm = s.mode == kLSTM;
    auto prop = s.training ? prop_kind::forward_training : prop_kind::forward_inference;
    auto fpd = make_fwd(eng, s.mode, prop, src_d, iter_d, lstm ? iter_c_d : no_c, wl_any, wi_any,
                        ly.bias_d, dst_d, iter_d, lstm ? iter_c_d : no_c);
    ly.fwd = Runner(fpd);
    ly.weights_layer_d = fpd.query_md(query::weights_md, 0);
    ly.weights_iter_d = fpd.query_md(query::weights_md, 1);

    auto user_wl = plain({1, 1, C, ly.G, H}, f, tag::ldgoi);   // MXNet's (G*H, C), row-major
    auto user_wi = plain({1, 1, H, ly.G, H}, f, tag::ldgoi);
    auto user_src = plain({T, N, C}, f, tag::tnc);
    auto user_iter = plain({1, 1, N, H}, f, tag::ldnc);
    auto user_dst = plain({T, N, H}, f, tag::tnc);
    ly.w_layer = Input(eng, user_wl, ly.weights_layer_d);
    ly.w_iter = Input(eng, user_wi, ly.weights_iter_d);
    ly.bias_buf.resize(ly.B * H);
    ly.bias = memory(ly.bias_d, eng, ly.bias_buf.data());
    if (s.mode == kGRU) {
        ly.perm_layer.resize(ly.G * H * C);
        ly.perm_iter.resize(ly.G * H * H);
    }
    if (index == 0) ly.x_in = Input(eng, user_src, src_d);
    ly.h0_in = Input(eng, user_iter, iter_d);
    if (lstm) ly.src_iter_c = memory(iter_c_d, eng, DNNL_MEMORY_NONE);
    ly.hT_out = Output(eng, user_iter, iter_d);
    if (lstm) ly.dst_iter_c = memory(iter_c_d, eng, DNNL_MEMORY_NONE);
    if (last)
        ly.y_out = Output(eng, user_dst, dst_d);
    else
        ly.dst_layer = memory(dst_d, eng);
    if (s.training)
        ly.workspace = memory(fpd.query_md(query::workspace_md), eng);

    if (!s.training) return;
    // Backward: every diff is f32 (oneDNN's rule, bf16 included); the weight diffs in the
    // layout oneDNN picks (ldigo, the only one it takes), reordered into MXNet's.
    auto dwl_d = memory::desc({1, 1, C, ly.G, H}, f, tag::any);
    auto dwi_d = memory::desc({1, 1, H, ly.G, H}, f, tag::any);
    auto dsrc_d = plain({T, N, C}, f, tag::tnc);
    auto ddst_d = plain({T, N, H}, f, tag::tnc);
    auto diter_d = plain({1, 1, N, H}, f, tag::ldnc);
    auto dir = rnn_direction::unidirectional_left2right;
    primitive_desc bpd;
    if (lstm)
        bpd = lstm_backward::primitive_desc(
            eng, prop_kind::backward, dir, src_d, iter_d, iter_c_d, wl_any, wi_any, ly.bias_d,
            dst_d, iter_d, iter_c_d, dsrc_d, diter_d, diter_d, dwl_d, dwi_d, ly.bias_d, ddst_d,
            diter_d, diter_d, lstm_forward::primitive_desc(fpd.get()), own_scratchpad());
    else
        bpd = lbr_gru_backward::primitive_desc(
            eng, prop_kind::backward, dir, src_d, iter_d, wl_any, wi_any, ly.bias_d, dst_d,
            iter_d, dsrc_d, diter_d, dwl_d, dwi_d, ly.bias_d, ddst_d, diter_d,
            lbr_gru_forward::primitive_desc(fpd.get()), own_scratchpad());
    ly.bwd = Runner(bpd);
    ly.bw_layer = Input(eng, user_wl, bpd.query_md(query::weights_md, 0));
    ly.bw_iter = Input(eng, user_wi, bpd.query_md(query::weights_md, 1));
    ly.diff_src_layer = memory(dsrc_d, eng, DNNL_MEMORY_NONE);
    ly.diff_src_iter = memory(diter_d, eng, DNNL_MEMORY_NONE);
    ly.diff_dst_layer = memory(ddst_d, eng, DNNL_MEMORY_NONE);
    ly.diff_dst_iter = memory(diter_d, eng, DNNL_MEMORY_NONE);
    if (lstm) {
        ly.diff_src_iter_c = memory(diter_d, eng, DNNL_MEMORY_NONE);
        ly.diff_dst_iter_c = memory(diter_d, eng, DNNL_MEMORY_NONE);
    }
    ly.dw_layer = Output(eng, user_wl, bpd.query_md(query::diff_weights_md, 0));
    ly.dw_iter = Output(eng, user_wi, bpd.query_md(query::diff_weights_md, 1));
    ly.dbias_buf.resize(ly.B * H);
    if (s.mode == kGRU) {
        ly.perm_dlayer.resize(ly.G * H * C);
        ly.perm_diter.resize(ly.G * H * H);
    }
    ly.diff_bias = memory(ly.bias_d, eng, ly.dbias_buf.data());
}

// The caller's weights and biases of one layer into the primitive's (gate order, summed biases).
void load_weights(Stack& s, Layer& ly, const float* wx, const float* wh, const float* bx,
                  const float* bh, bool for_backward) {
    const dim H = ly.H;
    if (ly.mode == kGRU) {
        swap_first_gates(wx, ly.perm_layer.data(), H * ly.C, ly.G);
        swap_first_gates(wh, ly.perm_iter.data(), H * H, ly.G);
        wx = ly.perm_layer.data();
        wh = ly.perm_iter.data();
    }
    if (for_backward) {
        ly.bw_layer.feed(s.strm, wx);
        ly.bw_iter.feed(s.strm, wh);
        return;
    }
    ly.w_layer.feed(s.strm, wx);
    ly.w_iter.feed(s.strm, wh);
    float* b = ly.bias_buf.data();
    if (ly.mode == kLSTM) {
        for (dim j = 0; j < 4 * H; ++j) b[j] = bx[j] + bh[j];
    } else {   // oneDNN lbr_gru: [z, r, n (input part), n (hidden part)]
        for (dim j = 0; j < H; ++j) {
            b[j] = bx[H + j] + bh[H + j];
            b[H + j] = bx[j] + bh[j];
            b[2 * H + j] = bx[2 * H + j];
            b[3 * H + j] = bh[2 * H + j];
        }
    }
}

// The layer's gradients into MXNet's arrays (written, not added). The weight gradients are
// already in MXNet's layout (in the GRU's scratch buffers, gates still in oneDNN's order).
void store_grads(Layer& ly, float* dwx, float* dwh, float* dbx, float* dbh) {
    const dim H = ly.H;
    if (ly.mode == kGRU) {   // swapping the first two gate blocks is its own inverse
        swap_first_gates(ly.perm_dlayer.data(), dwx, H * ly.C, ly.G);
        swap_first_gates(ly.perm_diter.data(), dwh, H * H, ly.G);
    }
    const float* db = ly.dbias_buf.data();
    if (ly.mode == kLSTM) {   // b = bx + bh: both get the same gradient
        std::memcpy(dbx, db, 4 * H * sizeof(float));
        std::memcpy(dbh, db, 4 * H * sizeof(float));
    } else {
        for (dim j = 0; j < H; ++j) {
            dbx[j] = dbh[j] = db[H + j];             // r
            dbx[H + j] = dbh[H + j] = db[j];         // z
            dbx[2 * H + j] = db[2 * H + j];          // n, input part
            dbh[2 * H + j] = db[3 * H + j];          // n, hidden part
        }
    }
}

void set_error(char* err, size_t len, const std::string& msg) {
    if (err && len) std::snprintf(err, len, "%s", msg.c_str());
}

// All of the library's oneDNN work runs on one thread it keeps (started at first use), whichever
// thread calls: GNU OpenMP gives every thread that starts parallel work a team of its own, and
// once libgomp manages more threads than the CPU has cores it cuts every thread's spin before
// sleeping to almost nothing, and oneDNN's RNN, with a barrier per time step, then sleeps and
// wakes at each (engine/native/build.py, PRIVATE_OPENMP, has the numbers). MXNet calls custom
// operators from a pool of threads, and the bench and the tests call from Python's main thread;
// through this thread the library's OpenMP keeps one team. Calls wait their turn.
// Where the thread cannot be started (an address-space limit left no room for its stack), the
// work runs on the caller's thread, as before this thread existed: slower, never a failure.
class WorkThread {
public:
    static void run(const std::function<void()>& job) {
        WorkThread* one = get();
        if (one == nullptr || std::this_thread::get_id() == one->id_) return job();
        one->hand_over(job);
    }

private:
    static WorkThread* get() {
        static WorkThread* one = start();              // never destroyed: its thread lives on
        return one;
    }
    static WorkThread* start() {
        try {
            return new WorkThread();
        } catch (const std::exception&) {               // std::system_error, std::bad_alloc
            return nullptr;
        }
    }
    void hand_over(const std::function<void()>& job) {
        std::lock_guard<std::mutex> turn(callers_);
        std::unique_lock<std::mutex> lock(mutex_);
        job_ = &job, done_ = false;
        wake_.notify_all();
        wake_.wait(lock, [this] { return done_; });
    }

    WorkThread() {
        std::thread thread([this] { loop(); });
        id_ = thread.get_id();
        thread.detach();
    }
    void loop() {
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
            wake_.wait(lock, [this] { return job_ != nullptr; });
            const std::function<void()>* job = job_;
            lock.unlock();
            (*job)();                                   // guarded(): it throws nothing
            lock.lock();
            job_ = nullptr, done_ = true;
            wake_.notify_all();
        }
    }
    std::mutex callers_, mutex_;
    std::condition_variable wake_;
    const std::function<void()>* job_ = nullptr;
    bool done_ = false;
    std::thread::id id_;
};

template <typename F>
int guarded(char* err, size_t len, F&& body) {
    int rc = 1;
    WorkThread::run([&] {
        try {
            body();
            rc = 0;
        } catch (const dnnl::error& e) {
            set_error(err, len, std::string("oneDNN: ") + e.what() + " (status " +
                                     std::to_string(static_cast<int>(e.status)) + ")");
        } catch (const std::exception& e) {
            set_error(err, len, e.what());
        } catch (...) {
            set_error(err, len, "an unknown C++ exception");
        }
    });
    return rc;
}

}  // namespace

#define API extern "C" __attribute__((visibility("default")))

// A stack for fixed shapes: mode 0 LSTM / 1 GRU; training 1 also builds the backward pass;
// other_layouts 1 (f32 only, for tests): the primitive's data in other layouts than the caller's.
// Returns null (and the reason in err) when oneDNN cannot build it (e.g. bf16 on a CPU without it).
API void* ornn_create(int mode, int layers, int input_size, int hidden, int steps, int batch,
                      int bf16, int training, int other_layouts, char* err, size_t errlen) {
    std::unique_ptr<Stack> s;
    int rc = guarded(err, errlen, [&] {
        s.reset(new Stack());
        s->mode = mode, s->L = layers, s->training = training != 0, s->bf16 = bf16 != 0;
        s->other_layouts = other_layouts != 0;
        s->layers.resize(layers);
        for (int l = 0; l < layers; ++l)
            build_layer(*s, s->layers[l], l, steps, batch, l == 0 ? input_size : hidden, hidden);
        if (layers > 1 && training)
            for (auto& buf : s->scratch_dx) buf.resize(size_t(steps) * batch * hidden);
    });
    return rc == 0 ? s.release() : nullptr;
}

API void ornn_destroy(void* stack) { delete static_cast<Stack*>(stack); }

// params: 4 per layer (i2h_weight, h2h_weight, i2h_bias, h2h_bias). c0/cT: null for GRU.
API int ornn_forward(void* stack, const float* x, const float* h0, const float* c0,
                     const float* const* params, float* y, float* hT, float* cT, char* err,
                     size_t errlen) {
    Stack& s = *static_cast<Stack*>(stack);
    return guarded(err, errlen, [&] {
        for (int l = 0; l < s.L; ++l) {
            Layer& ly = s.layers[l];
            const size_t state = size_t(ly.N) * ly.H * l;
            load_weights(s, ly, params[4 * l], params[4 * l + 1], params[4 * l + 2],
                         params[4 * l + 3], false);
            memory& src = l == 0 ? ly.x_in.feed(s.strm, x) : s.layers[l - 1].dst_layer;
            std::unordered_map<int, memory> args{
                {DNNL_ARG_SRC_LAYER, src},
                {DNNL_ARG_SRC_ITER, ly.h0_in.feed(s.strm, h0 + state)},
                {DNNL_ARG_WEIGHTS_LAYER, ly.w_layer.prim},
                {DNNL_ARG_WEIGHTS_ITER, ly.w_iter.prim},
                {DNNL_ARG_BIAS, ly.bias},
                {DNNL_ARG_DST_LAYER, l == s.L - 1 ? ly.y_out.target(y) : ly.dst_layer},
                {DNNL_ARG_DST_ITER, ly.hT_out.target(hT + state)}};
            if (s.mode == kLSTM) {
                ly.src_iter_c.set_data_handle(const_cast<float*>(c0 + state));
                ly.dst_iter_c.set_data_handle(cT + state);
                args[DNNL_ARG_SRC_ITER_C] = ly.src_iter_c;
                args[DNNL_ARG_DST_ITER_C] = ly.dst_iter_c;
            }
            if (s.training) args[DNNL_ARG_WORKSPACE] = ly.workspace;
            ly.fwd.run(s.strm, args);
            if (l == s.L - 1) ly.y_out.finish(s.strm);
            ly.hT_out.finish(s.strm);
        }
        s.strm.wait();
    });
}

// The backward pass of the last training forward (its workspace and activations are kept here).
// The caller passes the same x, h0, c0, params, y, hT, cT again, the output gradients dy, dhT, dcT
// (dcT null for GRU), and gets dx, dh0, dc0 and 4 gradients per layer (dparams) written, not added.
API int ornn_backward(void* stack, const float* x, const float* h0, const float* c0,
                      const float* const* params, const float* y, const float* hT,
                      const float* cT, const float* dy, const float* dhT, const float* dcT,
                      float* dx, float* dh0, float* dc0, float* const* dparams, char* err,
                      size_t errlen) {
    Stack& s = *static_cast<Stack*>(stack);
    return guarded(err, errlen, [&] {
        if (!s.training) throw std::runtime_error("this stack was built for inference only");
        for (int l = s.L - 1; l >= 0; --l) {
            Layer& ly = s.layers[l];
            const size_t state = size_t(ly.N) * ly.H * l;
            load_weights(s, ly, params[4 * l], params[4 * l + 1], nullptr, nullptr, true);
            // In f32 the forward's inputs and outputs are the caller's arrays: point at them
            // again. In bf16 the converted copies from the forward are still here.
            memory& src = l == 0 ? (ly.x_in.convert ? ly.x_in.prim : ly.x_in.feed(s.strm, x))
                                 : s.layers[l - 1].dst_layer;
            memory& src_iter =
                ly.h0_in.convert ? ly.h0_in.prim : ly.h0_in.feed(s.strm, h0 + state);
            memory& dst = l == s.L - 1 ? (ly.y_out.convert ? ly.y_out.prim
                                                           : ly.y_out.target(const_cast<float*>(y)))
                                       : ly.dst_layer;
            memory& dst_iter = ly.hT_out.convert
                                   ? ly.hT_out.prim
                                   : ly.hT_out.target(const_cast<float*>(hT + state));
            // oneDNN adds into the weight gradients: start them at zero
            float* const* g = dparams + 4 * l;
            memory& dwl = ly.dw_layer.target(s.mode == kGRU ? ly.perm_dlayer.data() : g[0]);
            memory& dwi = ly.dw_iter.target(s.mode == kGRU ? ly.perm_diter.data() : g[1]);
            std::memset(dwl.get_data_handle(), 0, dwl.get_desc().get_size());
            std::memset(dwi.get_data_handle(), 0, dwi.get_desc().get_size());
            std::fill(ly.dbias_buf.begin(), ly.dbias_buf.end(), 0.f);
            ly.diff_dst_layer.set_data_handle(
                l == s.L - 1 ? const_cast<float*>(dy) : s.layers[l + 1].diff_src_layer.get_data_handle());
            ly.diff_src_layer.set_data_handle(l == 0 ? dx : s.scratch_dx[l % 2].data());
            ly.diff_dst_iter.set_data_handle(const_cast<float*>(dhT + state));
            ly.diff_src_iter.set_data_handle(dh0 + state);
            std::unordered_map<int, memory> args{
                {DNNL_ARG_SRC_LAYER, src},
                {DNNL_ARG_SRC_ITER, src_iter},
                {DNNL_ARG_WEIGHTS_LAYER, ly.bw_layer.prim},
                {DNNL_ARG_WEIGHTS_ITER, ly.bw_iter.prim},
                {DNNL_ARG_BIAS, ly.bias},
                {DNNL_ARG_DST_LAYER, dst},
                {DNNL_ARG_DST_ITER, dst_iter},
                {DNNL_ARG_WORKSPACE, ly.workspace},
                {DNNL_ARG_DIFF_DST_LAYER, ly.diff_dst_layer},
                {DNNL_ARG_DIFF_DST_ITER, ly.diff_dst_iter},
                {DNNL_ARG_DIFF_SRC_LAYER, ly.diff_src_layer},
                {DNNL_ARG_DIFF_SRC_ITER, ly.diff_src_iter},
                {DNNL_ARG_DIFF_WEIGHTS_LAYER, dwl},
                {DNNL_ARG_DIFF_WEIGHTS_ITER, dwi},
                {DNNL_ARG_DIFF_BIAS, ly.diff_bias}};
            if (s.mode == kLSTM) {
                ly.src_iter_c.set_data_handle(const_cast<float*>(c0 + state));
                ly.dst_iter_c.set_data_handle(const_cast<float*>(cT + state));
                ly.diff_dst_iter_c.set_data_handle(const_cast<float*>(dcT + state));
                ly.diff_src_iter_c.set_data_handle(dc0 + state);
                args[DNNL_ARG_SRC_ITER_C] = ly.src_iter_c;
                args[DNNL_ARG_DST_ITER_C] = ly.dst_iter_c;
                args[DNNL_ARG_DIFF_DST_ITER_C] = ly.diff_dst_iter_c;
                args[DNNL_ARG_DIFF_SRC_ITER_C] = ly.diff_src_iter_c;
            }
            ly.bwd.run(s.strm, args);
            ly.dw_layer.finish(s.strm);
            ly.dw_iter.finish(s.strm);
            s.strm.wait();
            store_grads(ly, g[0], g[1], g[2], g[3]);
        }
    });
}

// Whether oneDNN builds bf16 LSTM and GRU training stacks here (1), else 0 and why in `why`.
API int ornn_bf16_supported(char* why, size_t len) {
    for (int mode : {kLSTM, kGRU}) {
        void* s = ornn_create(mode, 2, 8, 16, 2, 2, 1, 1, 0, why, len);
        if (!s) return 0;
        ornn_destroy(s);
    }
    return 1;
}

// GFLOP/s of oneDNN's own matmul here, (m x k) by (k x n) in bf16 (f32 accumulation) or f32, over
// about `seconds`: the ceiling a layer's products can reach on this CPU, for `rnn-studio bench` to
// say how near the RNN primitives come to it. Returns a negative number (and why in err) when
// oneDNN cannot build it.
API double ornn_matmul_gflops(int bf16, int m, int n, int k, double seconds, char* err,
                              size_t errlen) {
    double rate = -1;
    guarded(err, errlen, [&] {
        engine eng(engine::kind::cpu, 0);
        stream strm(eng);
        const dt t = bf16 ? dt::bf16 : dt::f32;
        memory::desc a_d({m, k}, t, tag::ab), b_d({k, n}, t, tag::any);
        memory::desc c_d({m, n}, dt::f32, tag::ab);
        matmul::primitive_desc pd(eng, a_d, b_d, c_d, own_scratchpad());
        Runner mm(pd);
        memory a(a_d, eng), b(pd.weights_desc(), eng), c(c_d, eng);
        // zeros (the same bytes in bf16 and f32): a matmul's time does not depend on the values
        std::memset(a.get_data_handle(), 0, a_d.get_size());
        std::memset(b.get_data_handle(), 0, pd.weights_desc().get_size());
        std::unordered_map<int, memory> args{
            {DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}};
        mm.run(strm, args);                    // warm-up
        strm.wait();
        const double flop = 2.0 * m * n * k;
        int runs = 0;
        auto start = std::chrono::steady_clock::now();
        double elapsed = 0;
        while (elapsed < seconds || runs < 3) {
            mm.run(strm, args);
            strm.wait();
            ++runs;
            std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
            elapsed = took.count();
        }
        rate = flop * runs / elapsed / 1e9;
    });
    return rate;
}

// "oneDNN 3.2.0 (cpu isa: avx2)"-like text for logs and `rnn-studio bench`.
API int ornn_info(char* out, size_t len) {
    const dnnl_version_t* v = dnnl_version();
    const char* isa = "?";
    switch (get_effective_cpu_isa()) {
        case cpu_isa::sse41: isa = "sse41"; break;
        case cpu_isa::avx: isa = "avx"; break;
        case cpu_isa::avx2: isa = "avx2"; break;
        case cpu_isa::avx2_vnni: isa = "avx2_vnni"; break;
        case cpu_isa::avx512_core: isa = "avx512_core"; break;
        case cpu_isa::avx512_core_vnni: isa = "avx512_core_vnni"; break;
        case cpu_isa::avx512_core_bf16: isa = "avx512_core_bf16"; break;
        case cpu_isa::avx512_core_amx: isa = "avx512_core_amx"; break;
        default: break;
    }
    std::snprintf(out, len, "oneDNN %d.%d.%d (cpu isa: %s)", v->major, v->minor, v->patch, isa);
    return 0;
}

// The file of the OpenMP runtime that this library's OpenMP calls, and libdnnl.so.3's, bind to:
// the private copy beside it (engine/native/build.py, PRIVATE_OPENMP) or MXNet's libgomp.so.1.
API int ornn_openmp(char* out, size_t len) {
    Dl_info where{};
    if (!dladdr(reinterpret_cast<void*>(&omp_get_max_threads), &where) || !where.dli_fname) {
        std::snprintf(out, len, "?");
        return -1;
    }
    std::snprintf(out, len, "%s", where.dli_fname);
    return 0;
}
