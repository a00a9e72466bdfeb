"""The villages a census import may write into: the importing user's jurisdiction, by name and
by code, and the rule that turns a row's 村 and 乡镇 cells into one of them (or a reason not)."""

from __future__ import annotations

from collections import defaultdict

from eldercare.choices import AreaLevel
from eldercare.models import Area
from eldercare.scoping import jurisdiction_prefix

from . import normalize as nz

__all__ = ["Jurisdiction"]


class Jurisdiction:
    """The villages a user may import into, by normalised name and by code, with their towns."""

    def __init__(self, user):
        prefix = jurisdiction_prefix(user)
        villages = Area.objects.for_user(user).filter(level=AreaLevel.VILLAGE).values_list("code", "name", "parent_id")
        villages = list(villages) if prefix is not None else []
        towns = dict(Area.objects.filter(code__in={parent for _, _, parent in villages}).values_list("code", "name"))
        self.prefix = prefix
        self.by_code = {code: (name, parent) for code, name, parent in villages}
        self.by_name: dict[str, list[str]] = defaultdict(list)
        for code, name, _parent in villages:
            key = nz.normalize_village(name)[0] or name
            self.by_name[key].append(code)
        self.town_names = towns
        self._resolved: dict[tuple, tuple] = {}

    def in_scope(self, village_code: str) -> bool:
        return self.prefix is not None and village_code.startswith(self.prefix)

    @staticmethod
    def _town_matches(given: str, actual: str) -> bool:
        given = given.removesuffix("人民政府").removesuffix("政府")
        return given == actual or actual.startswith(given) or given.startswith(actual)

    def resolve(self, values: dict) -> tuple[str | None, str | None]:
        """(village code, None) or (None, reason) for a row's village and town cells."""
        key = (values.get("village"), values.get("town"))
        found = self._resolved.get(key)
        if found is None:
            found = self._resolved[key] = self._resolve(*key)  # a few hundred distinct pairs per county
        return found

    def _resolve(self, village: str | None, town: str | None) -> tuple[str | None, str | None]:
        if village is None:
            return None, None  # already an error from the engine
        if village.isdigit() and len(village) == 12:
            candidates = [village] if village in self.by_code else []
        else:
            candidates = list(self.by_name.get(village, ()))
        if town and len(candidates) > 1:
            candidates = [c for c in candidates if self._town_matches(town, self.town_names.get(self.by_code[c][1], ""))]
        if not candidates:
            return None, (f"村“{village}”不在您的辖区内，或村名有误。只能导入本辖区的村；"
                          "请核对村名（也可填写 12 位区划代码）")
        if len(candidates) > 1:
            return None, f"辖区内有多个名为“{village}”的村，请填写“乡镇”列或改填村的 12 位区划代码"
        code = candidates[0]
        if town:
            actual = self.town_names.get(self.by_code[code][1], "")
            if not self._town_matches(town, actual):
                return None, f"乡镇“{town}”与村“{self.by_code[code][0]}”不符：该村属于{actual}。请核对乡镇或村名"
        return code, None
