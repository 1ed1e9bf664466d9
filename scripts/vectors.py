"""Write the golden wire vectors in tests/vectors/, or check that they are current.

    python scripts/vectors.py            # rewrite tests/vectors/
    python scripts/vectors.py --check    # regenerate into a temporary tree and diff

Each vector NAME is one ResourceSpec and what `to_idl(spec, "flyteres")`
makes of it (the same bytes as flyteidl2):

  NAME.spec.json                  the spec, `ResourceSpec.to_json(indent=2)`
  NAME.resources.bin              flyteres.v1.Resources, binary
  NAME.resources.json             the same message as proto3 JSON
  NAME.extended_resources.bin     flyteres.v1.ExtendedResources, binary (only when there is one)
  NAME.extended_resources.json    the same message as proto3 JSON
  index.json                      every vector and its files, with each file's message type

The JSON is `json_format.MessageToJson(message, indent=2, sort_keys=True)`:
proto3 field names in lowerCamelCase, enum values by name (an enum number the
IDL does not define, such as device class 5, as a number), default values
left out. Consumers in other languages compare it as parsed JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from google.protobuf import json_format
from google.protobuf.message import Message

from flyteres import AcceleratorSpec, Quantity, ResourceSpec, SharedMemorySpec, to_idl

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "tests" / "vectors"

MESSAGE_TYPES = {
    "resources": "flyteres.v1.Resources",
    "extended_resources": "flyteres.v1.ExtendedResources",
}


def _gpu(device: str, device_class: str = "NVIDIA_GPU", count: str = "1", **kwargs: object) -> ResourceSpec:
    return ResourceSpec(
        requests={"gpu": count},
        limits={"gpu": count},
        accelerator=AcceleratorSpec(device, device_class, **kwargs),  # type: ignore[arg-type]
    )


# Together these cover every field, every oneof case and every enum value of
# the messages, plus an enum number the IDL does not define.
SPECS: dict[str, ResourceSpec] = {
    "empty": ResourceSpec(),
    "cpu-memory-requests-limits": ResourceSpec(
        requests={"cpu": "500m", "memory": "1Gi"}, limits={"cpu": "2", "memory": "1.5Gi"}
    ),
    "limits-only": ResourceSpec(limits={"cpu": "4", "memory": "8G"}),
    "gpu-ephemeral-and-legacy-storage": ResourceSpec(
        requests={"gpu": "2", "ephemeral_storage": "10Gi", "storage": "1Gi"},
        limits={"gpu": "2", "ephemeral_storage": "20Gi", "storage": "2Gi"},
    ),
    "accelerator-device-only": _gpu("nvidia-tesla-t4"),
    "accelerator-unpartitioned": _gpu("nvidia-tesla-a100", unpartitioned=True),
    "accelerator-mig-partition": _gpu("nvidia-tesla-a100", partition="1g.5gb"),
    "accelerator-model": _gpu("nvidia-h100", count="8", model="NVIDIA_H100"),
    "class-google-tpu": _gpu("tpu-v5-lite-podslice", "GOOGLE_TPU", partition="2x2"),
    "class-amazon-neuron": _gpu("Trn1", "AMAZON_NEURON", count="4", model="AMAZON_TRN1"),
    "class-amd-gpu": _gpu("MI300X", "AMD_GPU", model="AMD_MI300X"),
    "class-habana-gaudi": _gpu("Gaudi1", "HABANA_GAUDI", model="HABANA_GAUDI1"),
    "class-undefined-number": _gpu("AppleSilicon", "APPLE_SILICON"),
    "custom-device-with-class": _gpu("vendor-x-accel", "AMD_GPU", count="2", partition="half", custom=True),
    "shared-memory-without-size": ResourceSpec(shared_memory=SharedMemorySpec()),
    "shared-memory-sized-own-mount": ResourceSpec(
        requests={"memory": "4Gi"},
        limits={"memory": "8Gi"},
        shared_memory=SharedMemorySpec(Quantity.parse("2Gi"), mount_name="scratch", mount_path="/scratch/shm"),
    ),
    "everything": ResourceSpec(
        requests={"cpu": "1", "memory": "2Gi", "gpu": "1", "ephemeral_storage": "5Gi", "storage": "1Gi"},
        limits={"cpu": "2", "memory": "4Gi", "gpu": "1", "ephemeral_storage": "10Gi", "storage": "1Gi"},
        accelerator=AcceleratorSpec("nvidia-tesla-a100", partition="3g.20gb", model="NVIDIA_A100"),
        shared_memory=SharedMemorySpec(Quantity.parse("1Gi")),
    ),
}


def message_json(message: Message) -> str:
    """The vector JSON of a message: deterministic, two-space indent, sorted keys."""
    return json_format.MessageToJson(message, indent=2, sort_keys=True) + "\n"


def write(dest: Path) -> None:
    """Write every vector and the index into `dest` (created if missing)."""
    dest.mkdir(parents=True, exist_ok=True)
    index: list[dict[str, object]] = []
    for name, spec in SPECS.items():
        resources, extended = to_idl(spec, "flyteres")
        (dest / f"{name}.spec.json").write_text(spec.to_json(indent=2) + "\n", encoding="utf-8", newline="\n")
        files: dict[str, dict[str, str]] = {}
        for kind, message in (("resources", resources), ("extended_resources", extended)):
            if message is None:
                continue
            (dest / f"{name}.{kind}.bin").write_bytes(message.SerializeToString())
            (dest / f"{name}.{kind}.json").write_text(message_json(message), encoding="utf-8", newline="\n")
            files[kind] = {
                "type": MESSAGE_TYPES[kind],
                "binary": f"{name}.{kind}.bin",
                "json": f"{name}.{kind}.json",
            }
        index.append({"name": name, "spec": f"{name}.spec.json", "messages": files})
    doc = {"generator": "scripts/vectors.py", "vectors": index}
    (dest / "index.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8", newline="\n")


def _files(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(root.iterdir()) if p.is_file()} if root.exists() else {}


def diff(expected: Path, actual: Path) -> list[str]:
    """What differs between two vector trees (empty when identical)."""
    want, have = _files(expected), _files(actual)
    problems = [f"missing: tests/vectors/{n}" for n in sorted(set(want) - set(have))]
    problems += [f"not produced by scripts/vectors.py: tests/vectors/{n}" for n in sorted(set(have) - set(want))]
    problems += [f"differs: tests/vectors/{n}" for n in sorted(set(want) & set(have)) if want[n] != have[n]]
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if tests/vectors/ differs from a fresh generation")
    parser.add_argument("--dir", type=Path, default=VECTORS, help="the vector directory (default: tests/vectors/)")
    args = parser.parse_args()
    target: Path = args.dir
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = Path(tmp) / "vectors"
            write(fresh)
            problems = diff(fresh, target)
        if problems:
            print("tests/vectors/ is out of date with scripts/vectors.py:")
            print("\n".join(problems))
            print("run `make vectors` and commit tests/vectors/")
            return 1
        print(f"tests/vectors/ is current ({len(SPECS)} vectors)")
        return 0
    shutil.rmtree(target, ignore_errors=True)
    write(target)
    print(f"wrote {len(SPECS)} vectors to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
