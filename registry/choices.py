"""Closed vocabularies of the elder register (values are stable codes, labels are Chinese)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ElderSex(models.TextChoices):
    MALE = "male", _("男")
    FEMALE = "female", _("女")


class ElderStatus(models.TextChoices):
    ACTIVE = "active", _("在册")
    MOVED = "moved", _("迁出")
    DECEASED = "deceased", _("死亡")
    NOT_LEFT_BEHIND = "not_left_behind", _("已不属留守")
    INSTITUTION = "institution", _("入住养老机构")


class ElderLiving(models.TextChoices):
    ALONE = "alone", _("独居")
    WITH_SPOUSE = "spouse", _("与配偶同住")
    WITH_GRANDCHILDREN = "grandchildren", _("与未成年孙辈同住")
    WITH_RELATIVES = "relatives", _("与其他亲属同住")
    OTHER = "other", _("其他")


class ElderHealth(models.TextChoices):
    HEALTHY = "healthy", _("健康")
    FAIR = "fair", _("基本健康")
    ILL_SELF_CARING = "ill", _("患病能自理")
    ILL_DEPENDENT = "ill_dependent", _("患病不能自理")


class ElderSelfCare(models.TextChoices):
    INDEPENDENT = "independent", _("自理")
    PARTIAL = "partial", _("半失能")
    DISABLED = "disabled", _("失能")


class ElderIncomeSource(models.TextChoices):
    PENSION = "pension", _("养老金")
    CHILDREN = "children", _("子女供养")
    LABOUR = "labour", _("劳动收入")
    DIBAO = "dibao", _("低保金")
    TEKUN = "tekun", _("特困供养金")
    OTHER = "other", _("其他")


class ElderDifficulty(models.TextChoices):
    CARE = "care", _("生活照料")
    ECONOMIC = "economic", _("经济困难")
    MEDICAL = "medical", _("看病就医")
    LONELINESS = "loneliness", _("精神孤独")
    SAFETY = "safety", _("安全隐患")
    OTHER = "other", _("其他")


class ElderRiskLevel(models.TextChoices):
    LOW = "low", _("低")
    MEDIUM = "medium", _("中")
    HIGH = "high", _("高")


class GuardianRelation(models.TextChoices):
    SON = "son", _("子")
    DAUGHTER = "daughter", _("女")
    SPOUSE = "spouse", _("配偶")
    DAUGHTER_IN_LAW = "daughter_in_law", _("儿媳")
    SON_IN_LAW = "son_in_law", _("女婿")
    GRANDCHILD = "grandchild", _("孙子女")
    OTHER_KIN = "other_kin", _("其他亲属")


class ContactEventKind(models.TextChoices):
    HOME_VISIT = "visit", _("看望")
    PHONE = "phone", _("电话")
    VIDEO = "video", _("视频")
    MONEY_OR_GOODS = "money", _("汇款或物资")


class GuardianDuty(models.TextChoices):
    ECONOMIC = "economic", _("经济供养")
    CARE = "care", _("生活照料")
    EMOTIONAL = "emotional", _("精神慰藉")


class DutyFulfilment(models.TextChoices):
    FULFILLED = "fulfilled", _("履行")
    PARTLY = "partly", _("部分履行")
    NOT = "not", _("未履行")


class SupervisionMethod(models.TextChoices):
    IN_PERSON = "in_person", _("当面督促")
    PHONE = "phone", _("电话督促")
    WRITTEN = "written", _("书面督促")
    MEDIATION = "mediation", _("调解")


class SupervisionResult(models.TextChoices):
    CORRECTED = "corrected", _("已改正")
    PROMISED = "promised", _("承诺改正")
    REFUSED = "refused", _("拒不履行")


# The 56 officially recognised ethnic groups (民族), in the order of GB 3304.
ETHNICITIES = (
    "汉族 蒙古族 回族 藏族 维吾尔族 苗族 彝族 壮族 布依族 朝鲜族 满族 侗族 瑶族 白族 土家族 哈尼族 哈萨克族 傣族 "
    "黎族 傈僳族 佤族 畲族 高山族 拉祜族 水族 东乡族 纳西族 景颇族 柯尔克孜族 土族 达斡尔族 仫佬族 羌族 布朗族 "
    "撒拉族 毛南族 仡佬族 锡伯族 阿昌族 普米族 塔吉克族 怒族 乌孜别克族 俄罗斯族 鄂温克族 德昂族 保安族 裕固族 "
    "京族 塔塔尔族 独龙族 鄂伦春族 赫哲族 门巴族 珞巴族 基诺族"
).split()
