"""The GPU payload rule on real ELF files built with gcc (DT_SONAME / DT_NEEDED)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from lambda_slim.rules.gpu import DistFiles, dropped_files, elf_links, is_cuda_payload, plan_gpu

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")


def _so(out: Path, soname: str, *, links: tuple[Path, ...] = (), body: str = "") -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    src = out.with_suffix(".c")
    src.write_text(body or f"int f_{abs(hash(soname)) % 10**6}(void) {{ return 1; }}\n")
    cmd = ["gcc", "-shared", "-fPIC", "-o", str(out), str(src), f"-Wl,-soname,{soname}",
           "-Wl,--no-as-needed"]
    for lib in links:
        cmd += [str(lib)]
    subprocess.run(cmd, check=True)
    src.unlink()


def _tree(tmp: Path, ext_links_nccl: bool) -> tuple[list[DistFiles], dict[str, int]]:
    nccl = tmp / "nvidia/nccl/lib/libnccl.so.2"
    _so(nccl, "libnccl.so.2")
    (tmp / "nvidia/nccl/lib/libnccl_device.bc").write_bytes(b"x" * 5000)
    cudart = tmp / "nvidia/cu13/lib/libcudart.so.13"
    _so(cudart, "libcudart.so.13")
    ext = tmp / "xgboost/lib/libxgboost.so"
    _so(ext, "libxgboost.so", links=(nccl,) if ext_links_nccl else ())
    (tmp / "xgboost/__init__.py").write_text("")
    (tmp / "pynvml.py").write_text("")
    dists = [
        DistFiles("nvidia-nccl-cu13", "2.32.3", (
            "nvidia/nccl/lib/libnccl.so.2", "nvidia/nccl/lib/libnccl_device.bc",
            "nvidia_nccl_cu13-2.32.3.dist-info/RECORD")),
        DistFiles("nvidia-cuda-runtime", "13.5", ("nvidia/cu13/lib/libcudart.so.13",)),
        DistFiles("xgboost", "3.4.1", ("xgboost/__init__.py", "xgboost/lib/libxgboost.so")),
        DistFiles("nvidia-ml-py", "13.0", ("pynvml.py",)),
    ]
    (tmp / "nvidia_nccl_cu13-2.32.3.dist-info").mkdir()
    (tmp / "nvidia_nccl_cu13-2.32.3.dist-info/RECORD").write_text("")
    sizes = {f: (tmp / f).stat().st_size for d in dists for f in d.files}
    return dists, sizes


def test_payload_definition() -> None:
    assert is_cuda_payload("nvidia-nccl-cu13", ["nvidia/nccl/lib/libnccl.so.2",
                                                "nvidia_nccl_cu13-2.dist-info/RECORD"])
    assert not is_cuda_payload("nvidia-ml-py", ["pynvml.py"])
    assert not is_cuda_payload("xgboost", ["nvidia/x.so"])
    assert not is_cuda_payload("nvidia-empty", ["nvidia_empty-1.dist-info/RECORD"])


def test_unlinked_payloads_are_dropped_with_their_bytes(tmp_path: Path) -> None:
    dists, sizes = _tree(tmp_path, ext_links_nccl=False)
    assert elf_links(tmp_path / "nvidia/nccl/lib/libnccl.so.2") == ("libnccl.so.2", ("libc.so.6",))
    decisions = {d.name: d for d in plan_gpu(tmp_path, dists, sizes)}
    assert set(decisions) == {"nvidia-nccl-cu13", "nvidia-cuda-runtime"}
    nccl = decisions["nvidia-nccl-cu13"]
    assert nccl.dropped and "libnccl.so.2" in nccl.reason
    assert nccl.bytes == sum(sizes[f] for f in dists[0].files)
    gone = dropped_files(decisions.values(), dists)
    assert "nvidia/nccl/lib/libnccl.so.2" in gone and "xgboost/lib/libxgboost.so" not in gone


def test_a_linked_payload_is_kept_and_says_who_links_it(tmp_path: Path) -> None:
    dists, sizes = _tree(tmp_path, ext_links_nccl=True)
    assert "libnccl.so.2" in (elf_links(tmp_path / "xgboost/lib/libxgboost.so") or (None, ()))[1]
    decisions = {d.name: d for d in plan_gpu(tmp_path, dists, sizes)}
    nccl = decisions["nvidia-nccl-cu13"]
    assert not nccl.dropped and nccl.needed_by == ("xgboost/lib/libxgboost.so",)
    assert decisions["nvidia-cuda-runtime"].dropped


def test_payload_needed_by_a_kept_payload_is_kept(tmp_path: Path) -> None:
    cudart = tmp_path / "nvidia/cu13/lib/libcudart.so.13"
    _so(cudart, "libcudart.so.13")
    cublas = tmp_path / "nvidia/cu13/lib/libcublas.so.13"
    _so(cublas, "libcublas.so.13", links=(cudart,))
    ext = tmp_path / "pkg/_ext.so"
    _so(ext, "_ext.so", links=(cublas,))
    dists = [
        DistFiles("nvidia-cuda-runtime", "13", ("nvidia/cu13/lib/libcudart.so.13",)),
        DistFiles("nvidia-cublas", "13", ("nvidia/cu13/lib/libcublas.so.13",)),
        DistFiles("pkg", "1", ("pkg/_ext.so",)),
    ]
    sizes = {f: (tmp_path / f).stat().st_size for d in dists for f in d.files}
    decisions = {d.name: d for d in plan_gpu(tmp_path, dists, sizes)}
    assert not decisions["nvidia-cublas"].dropped
    assert not decisions["nvidia-cuda-runtime"].dropped
    assert decisions["nvidia-cuda-runtime"].needed_by == ("nvidia/cu13/lib/libcublas.so.13",)


def test_keep_and_orphans(tmp_path: Path) -> None:
    dists, sizes = _tree(tmp_path, ext_links_nccl=False)
    decisions = {d.name: d for d in plan_gpu(
        tmp_path, dists, sizes, keep={"nvidia-nccl-cu13"},
        orphans={"nvidia-ml-py": "orphaned pin: only xgboost required it"})}
    assert "nvidia-nccl-cu13" not in decisions
    assert decisions["nvidia-ml-py"].dropped
    assert decisions["nvidia-ml-py"].reason.startswith("orphaned pin")
