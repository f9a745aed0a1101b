"""Mandarin through misaki's Chinese reader: tones as arrows, only the model's symbols."""

from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.speech import read_sentences
from api.text.chunks import Vocabulary
from api.text.g2p import EspeakG2P
from api.text.mandarin import prepare_text

TONES = set("→↗↓↘")
ESPEAK_TONE_DIGITS = set("0123456789")


def test_a_sentence_reads_as_misaki_writes_it(g2p: EspeakG2P) -> None:
    # Pinyin jīntiān tiānqì hěn hǎo: aspiration as ʰ, tones as arrows, words
    # (jieba's) joined without spaces.
    assert g2p("今天天气很好。", "cmn") == "ʨi→ntʰjɛ→ntʰjɛ→nʨʰi↘ xə↓n xau↓."


@pytest.mark.parametrize(
    "text",
    [
        "今天天气很好，我们去公园散步吧。",
        "你叫什么名字？我叫小明！",
        "中华人民共和国成立于一九四九年。",
        "他说：“走吧”……《红楼梦》（曹雪芹）很长；真的。",
    ],
)
def test_tones_are_arrows_and_every_symbol_is_the_models(
    g2p: EspeakG2P, vocab: Vocabulary, text: str
) -> None:
    phonemes = g2p(text, "cmn")
    assert vocab.clean(phonemes) == phonemes, set(phonemes) - set(vocab.clean(phonemes))
    assert TONES & set(phonemes)
    assert not ESPEAK_TONE_DIGITS & set(phonemes)
    assert "h" not in phonemes  # aspiration is ʰ, h is not a Mandarin sound here


def test_chinese_punctuation_becomes_the_models(g2p: EspeakG2P) -> None:
    phonemes = g2p("好，好。好！好？好、好；好：好", "cmn")
    assert [symbol for symbol in phonemes if symbol in ",.!?;:"] == list(",.!?,;:")
    # Followed by a space, as misaki writes it (and where the chunker cuts a clause).
    assert "xau↓, xau↓" in phonemes


def test_ascii_punctuation_in_chinese_is_spaced_like_chinese(g2p: EspeakG2P) -> None:
    assert g2p("你好,世界!", "cmn") == g2p("你好，世界！", "cmn")


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("我有3个苹果。", "sa→n"),  # 三
        ("价格是10,000元。", "i→wa↘n"),  # 一万, not 十 and 零
        ("一共12.5公斤。", "ʂɨ↗ɚ↘tjɛ↓n u↓"),  # 十二点五
        ("百分之50%。", "u↓ʂɨ↗"),  # 五十
    ],
)
def test_digits_are_read_as_chinese_numbers(
    g2p: EspeakG2P, vocab: Vocabulary, text: str, number: str
) -> None:
    phonemes = g2p(text, "cmn")
    assert number in phonemes
    assert vocab.clean(phonemes) == phonemes


def test_a_number_too_long_for_cn2an_is_read_digit_by_digit(
    g2p: EspeakG2P, vocab: Vocabulary
) -> None:
    phonemes = g2p("编号12345678901234567890。", "cmn")
    assert vocab.clean(phonemes) == phonemes
    assert phonemes.count("li↗ŋ") == 2  # the two zeros


def test_latin_words_in_chinese_are_read_as_english(g2p: EspeakG2P, vocab: Vocabulary) -> None:
    phonemes = g2p("我喜欢用iPhone打电话。", "cmn")
    assert vocab.clean(phonemes) == phonemes
    assert "P" not in phonemes  # misaki alone passes the letters through
    assert "fˈOn" in phonemes  # espeak's English, in misaki's symbols
    assert phonemes.startswith("wo↓ ɕi↓xwa→n")


@pytest.mark.parametrize(
    ("text", "prepared"),
    [
        ("10,000元", "10000元"),
        ("1,234,567", "1234567"),
        ("1,23", "1,23"),
        ("12345678901234567", "一二三四五六七八九零一二三四五六七"),
        ("１２３４５６７８９０１２３４５６７８", "一二三四五六七八九零一二三四五六七八"),
        ("ＡＢＣ公司", "ABC公司"),
        ("一九四〇年", "一九四零年"),
        ("今天很好。", "今天很好。"),
    ],
)
def test_text_is_prepared_for_misaki(text: str, prepared: str) -> None:
    assert prepare_text(text) == prepared


_MIXED = st.text(
    st.sampled_from("你好世界中国人一二三0123456789,.%:-，。！？、；：“”《》（）…ab Z〇")
)


@settings(max_examples=60, deadline=2000)
@given(text=_MIXED)
def test_property_every_character_and_digit_is_read(
    g2p: EspeakG2P, vocab: Vocabulary, text: str
) -> None:
    phonemes = g2p(text, "cmn")
    unknown = set(phonemes) - set(vocab.clean(phonemes))
    # What the model has no symbol for is only marks copied from the text (such
    # as "-" or "%"), which the service drops; no character or digit is left unread.
    assert unknown <= set(text) - set("你好世界中国人一二三0123456789〇abZ")


def test_sentences_without_cjk_are_read_as_english_by_a_mandarin_voice() -> None:
    read = list(read_sentences("Hello there, 2 friends. 你好。", "cmn"))
    assert read == [("Hello there, two friends.", "en-us"), ("你好。", "cmn")]


def test_mandarin_needs_no_extra(g2p: EspeakG2P) -> None:
    g2p.ensure_available("cmn")


def test_concurrent_mandarin_and_english_match_single_threaded(g2p: EspeakG2P) -> None:
    jobs = [
        ("今天天气很好，我们去公园散步吧。", "cmn"),
        ("The quick brown fox jumps over the lazy dog.", "en-us"),
        ("我喜欢用iPhone打电话，价格是3,000元。", "cmn"),
        ("She sells sea shells by the sea shore.", "en-gb"),
    ] * 3
    expected = {job: g2p(*job) for job in jobs}
    start = threading.Barrier(4)

    def speak_all(offset: int) -> list[tuple[tuple[str, str], str]]:
        start.wait()
        return [(job, g2p(*job)) for job in jobs[offset:] + jobs[:offset]]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = [pair for batch in pool.map(speak_all, range(4)) for pair in batch]
    assert [phonemes for job, phonemes in results] == [expected[job] for job, _ in results]


def test_mandarin_loads_without_a_writable_temporary_directory() -> None:
    # A read-only root file system with no tmpfs: jieba cannot keep its cache and
    # must still load (in a fresh process: jieba loads once per process).
    code = (
        "import tempfile\n"
        "def no_temp_dir():\n"
        "    raise FileNotFoundError('No usable temporary directory found')\n"
        "tempfile.gettempdir = no_temp_dir\n"
        "from api.text.mandarin import MandarinG2P\n"
        "print(MandarinG2P()('你好。', str))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ni↓xau↓."
    assert "Traceback" not in done.stderr
