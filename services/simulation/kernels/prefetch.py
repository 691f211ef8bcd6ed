"""A software prefetch for numba kernels: start loading an array element into the cache
now, so a later read of it (a union–find ``find`` on a node drawn a few steps ahead) does
not stall on memory. A hint only: it changes no value, so results stay bit-identical."""

from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def prefetch(_typingctx: Any, arr: Any, index: Any) -> Any:
    """``prefetch(arr, i)``: hint the CPU to fetch ``arr[i]`` (1-d array, 0 <= i < len) for
    reading (LLVM ``llvm.prefetch``, locality 3: keep it in every cache level)."""
    if not isinstance(arr, types.Array) or arr.ndim != 1 or not isinstance(index, types.Integer):
        return None
    sig = types.void(arr, index)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        arrty, idxty = signature.args
        ary = context.make_array(arrty)(context, builder, args[0])
        i = context.cast(builder, args[1], idxty, types.intp)
        ptr = cgutils.get_item_pointer(context, builder, arrty, ary, [i], wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen
