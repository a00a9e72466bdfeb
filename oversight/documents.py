"""The circular as a Word document (python-docx): the same sections as the printed page."""

from io import BytesIO

from django.utils import timezone

from oversight.scorecard import DIMENSIONS

DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FONT = "SimSun"  # 宋体: what a township office's Word has


def circular_document(circular) -> bytes:
    """Title, scores table, villages below target with their shortfalls, the most improved, the
    office's text, and the town's name and date at the foot."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    content = circular.scores
    document = Document()
    style = document.styles["Normal"]
    style.font.name, style.font.size = FONT, Pt(11)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)  # Chinese text uses the east-Asian font slot

    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(circular.title)
    run.bold, run.font.size = True, Pt(16)
    status = "" if circular.is_issued else "（草稿）"
    document.add_paragraph(f"评分期：{content.get('period', '')}　评分标准：{content.get('version', '')}{status}")

    document.add_heading("一、各村得分", level=2)
    labels = [str(label) for _key, label, _policy in DIMENSIONS]
    table = document.add_table(rows=1, cols=3 + len(labels))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ["村(社区)", "综合", *labels, "较上期"], strict=False):
        cell.text = text
    for village in content.get("villages", []):
        change = "" if village.get("change") is None else f"{village['change']:+.1f}"
        values = [village["name"], f"{village['total']}", *[f"{village['dimensions'][k]}" for k, _l, _p in DIMENSIONS],
                  change]
        for cell, text in zip(table.add_row().cells, values, strict=False):
            cell.text = text

    named = {v["code"]: v for v in content.get("villages", [])}
    document.add_heading(f"二、未达标的村（综合得分低于 {content.get('pass_score', '')} 分）", level=2)
    below = [named[c] for c in content.get("below", []) if c in named]
    if not below:
        document.add_paragraph("本期没有未达标的村。")
    for village in below:
        document.add_paragraph(f"{village['name']}（{village['total']} 分）", style="List Bullet")
        for s in village["shortfalls"]:
            document.add_paragraph(f"{s['dimension']}·{s['item']}：{s['miss']}/{s['total']} 未达到，扣 {s['lost']} 分",
                                   style="List Bullet 2")

    document.add_heading("三、进步明显的村", level=2)
    improved = [named[c] for c in content.get("improved", []) if c in named]
    document.add_paragraph("、".join(f"{v['name']}（提高 {v['change']} 分）" for v in improved) or "无。")

    document.add_heading("四、工作要求", level=2)
    for line in (circular.text or "").splitlines() or [""]:
        document.add_paragraph(line)

    day = timezone.localtime(circular.issued_at).date() if circular.issued_at else timezone.localdate()
    for text in (f"{circular.town.name}人民政府", f"{day.year}年{day.month}月{day.day}日"):
        paragraph = document.add_paragraph(text)
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    stream = BytesIO()
    document.save(stream)
    return stream.getvalue()
