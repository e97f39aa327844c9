"""The methods a studio offers, built on first use and shared by every browser session.

Offers come from three places, in this order: the studio config's ``methods``; every encoder card
(``ganinv weights list``, third-party asset registries included) whose exported file was trained
for the studio's generator; and optimisation in every registered space (third-party plugins
included). Every method renders with the one generator the catalogue loaded.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from ganinv.core.assets import list_assets, resolve_file
from ganinv.core.components import spec_name
from ganinv.core.errors import GanInvError
from ganinv.core.generator import Generator
from ganinv.core.registry import registry
from ganinv.harness.method import (
    Method,
    build_resolved_method,
    load_generator_for,
    method_label,
    resolve_method_config,
)
from ganinv.harness.schema import MethodConfig
from ganinv.studio.config import StudioConfig


@dataclass(frozen=True)
class Offer:
    """One method on offer: its label, its (unresolved) config and where it comes from."""

    label: str
    config: MethodConfig
    origin: str


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _encoder_card_offers(generator_file: str, taken: set[str]) -> list[Offer]:
    """Encoder cards whose file is here and names the studio's generator."""
    from ganinv.checkpoints.encoder_file import read_encoder_header

    offers = []
    for asset in list_assets():
        if asset.kind != "encoder" or asset.path is None or asset.name in taken:
            continue
        try:
            header = read_encoder_header(asset.path)
        except GanInvError:
            continue  # a damaged or foreign file is not offered (`ganinv weights list` says why)
        if header.generator and _same_file(header.generator, generator_file):
            config = MethodConfig(encoder_checkpoint=asset.name, label=asset.name)
            offers.append(Offer(asset.name, config, f"encoder card {asset.name}: {asset.title}"))
    return offers


def _space_offers(optimize: object, taken: set[str]) -> list[Offer]:
    """Optimisation in every registered space, naming the distribution that registers it."""
    offers = []
    for info in registry("spaces").info(try_load=False):
        label = f"{info.name} + optimisation"
        if label in taken:
            continue
        config = MethodConfig(space=info.name, refiner=optimize, label=label)
        origin = f"space {info.name!r} of {info.distribution} {info.version}, {spec_name(optimize)}"
        offers.append(Offer(label, config, origin))
    return offers


class Catalog:
    """Labels -> methods. `method(label)` builds on first use (thread-safe) and keeps it."""

    def __init__(self, config: StudioConfig, device: torch.device | str = "cpu") -> None:
        self.config = config
        self.device = torch.device(device)
        self.generator_file = resolve_file(str(config.generator))
        self.generator: Generator = load_generator_for(str(config.generator), self.device)
        self.offers: dict[str, Offer] = {}
        for method in config.methods:
            label = method_label(method)
            self._add(Offer(label, replace(method, label=label), "studio config"))
        if config.add_registered:
            taken_cards = {
                Path(m.encoder_checkpoint).stem for m in config.methods if m.encoder_checkpoint
            }
            for offer in _encoder_card_offers(self.generator_file, taken_cards):
                self._add(offer)
            for offer in _space_offers(config.optimize, set(self.offers)):
                self._add(offer)
        self._built: dict[str, Method] = {}
        self._lock = threading.Lock()

    def _add(self, offer: Offer) -> None:
        if offer.label in self.offers:
            raise GanInvError(
                f"studio: two methods are labelled {offer.label!r}; give them different labels"
            )
        self.offers[offer.label] = offer

    @property
    def labels(self) -> list[str]:
        return list(self.offers)

    def method(self, label: str) -> Method:
        """The built method called `label` (its generator is the catalogue's)."""
        if label not in self.offers:
            raise GanInvError(f"studio: no method called {label!r}")
        with self._lock:
            if label not in self._built:
                config = resolve_method_config(
                    self.offers[label].config, default_generator=self.generator_file
                )
                if not _same_file(resolve_file(str(config.generator)), self.generator_file):
                    raise GanInvError(
                        f"studio: method {label!r} was made for the generator {config.generator}, "
                        f"not the studio's {self.config.generator}; give it a studio config "
                        "of its own (--config)"
                    )
                self._built[label] = build_resolved_method(config, self.device, self.generator)
            return self._built[label]
