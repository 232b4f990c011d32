"""The CLI's layouts against what `ollama` printed (../shared/reference/ollama-cli/,
copied here as goldens): the same data gives the same bytes."""

from __future__ import annotations

from tokenwire_client.cli import format as fmt
from tokenwire_client.cli.wrap import Wrapper

LIST = (
    "NAME            ID              SIZE     MODIFIED      \n"
    "smollm2:135m    fd5f44c0b5af    98 MB    6 minutes ago    "
)
LIST_FOUR = (
    "NAME                    ID              SIZE     MODIFIED               \n"
    "y:latest                fd5f44c0b5af    98 MB    Less than a second ago    \n"
    "x:latest                f070ad73c060    98 MB    1 second ago              \n"
    "smollm2-saved:latest    69adabf33076    98 MB    3 seconds ago             \n"
    "smollm2:135m            fd5f44c0b5af    98 MB    8 minutes ago             "
)
PS = (
    "NAME            ID              SIZE      PROCESSOR    CONTEXT    UNTIL              \n"
    "smollm2:135m    fd5f44c0b5af    209 MB    100% CPU     4096       4 minutes from now    "
)
PS_EMPTY = "NAME    ID    SIZE    PROCESSOR    CONTEXT    UNTIL "
SHOW = """  Model
    architecture        llama      
    parameters          134.52M    
    context length      8192       
    embedding length    576        
    quantization        Q4_1       

  Capabilities
    completion    

  Parameters
    stop    "<|im_start|>"    
    stop    "<|im_end|>"      
"""  # noqa: W291 (ollama's trailing padding is the point)
STATS = """total duration:       774.714877ms
load duration:        644.592µs
prompt eval count:    15 token(s)
prompt eval duration: 6.9ms
prompt eval rate:     2173.91 tokens/s
eval count:           101 token(s)
eval duration:        762.818ms
eval rate:            132.40 tokens/s"""


def test_list_and_ps_tables():
    assert (
        fmt.table(
            ["NAME", "ID", "SIZE", "MODIFIED"], [["smollm2:135m", "fd5f44c0b5af", "98 MB", "6 minutes ago"]]
        )
        == LIST
    )
    rows = [
        ["y:latest", "fd5f44c0b5af", "98 MB", "Less than a second ago"],
        ["x:latest", "f070ad73c060", "98 MB", "1 second ago"],
        ["smollm2-saved:latest", "69adabf33076", "98 MB", "3 seconds ago"],
        ["smollm2:135m", "fd5f44c0b5af", "98 MB", "8 minutes ago"],
    ]
    assert fmt.table(["NAME", "ID", "SIZE", "MODIFIED"], rows) == LIST_FOUR
    header = ["NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL"]
    row = ["smollm2:135m", "fd5f44c0b5af", "209 MB", "100% CPU", "4096", "4 minutes from now"]
    assert fmt.table(header, [row]) == PS
    assert fmt.table(header, []) == PS_EMPTY


def test_show_sections():
    info = {
        "model_info": {
            "general.architecture": "llama",
            "general.parameter_count": 134515008,
            "llama.context_length": 8192,
            "llama.embedding_length": 576,
        },
        "details": {"quantization_level": "Q4_1"},
        "capabilities": ["completion"],
        "parameters": f'{"stop":<30} "<|im_start|>"\n{"stop":<30} "<|im_end|>"',
    }
    assert fmt.show(info) == SHOW


def test_human_units_and_times():
    assert [fmt.human_bytes(n) for n in (98_100_000, 209_000_000, 1_500_000_000, 2_000_000_000, 512)] == [
        "98 MB", "209 MB", "1.5 GB", "2 GB", "512 B"]  # fmt: skip
    now = 1_000_000.0
    assert fmt.human_time(now - 360, now) == "6 minutes ago"
    assert fmt.human_time(now - 0.2, now) == "Less than a second ago"
    assert fmt.human_time(now + 250, now) == "4 minutes from now"
    assert fmt.human_time(now + 40 * 365 * 86400, now) == "Forever"
    assert fmt.human_time(now - 3600, now) == "About an hour ago"
    assert fmt.human_number(134515008) == "134.52M" and fmt.human_number(3_000_000_000) == "3B"
    assert [fmt.go_float(x) for x in (134515008, 3, 100000, 1e-05, 1e6)] == [
        "1.34515008e+08",
        "3",
        "100000",
        "1e-05",
        "1e+06",
    ]


def test_the_verbose_stats_block():
    metrics = {"total_duration": 774714877, "load_duration": 644592, "prompt_eval_count": 15,
               "prompt_eval_duration": 6900000, "eval_count": 101, "eval_duration": 762818000}  # fmt: skip
    assert fmt.stats(metrics) == STATS


def test_word_wrap_breaks_between_words():
    w = Wrapper(20)
    out = (
        "".join(w.feed(piece) for piece in ["The sky is ", "blue because of Ray", "leigh scattering.\nNext"])
        + w.close()
    )
    assert out == "The sky is blue\nbecause of Rayleigh\nscattering.\nNext"
    assert all(len(line) <= 20 for line in out.splitlines())


def test_image_paths_in_a_prompt_are_attached_and_cut_out(tmp_path):
    from tokenwire_client.cli.run import images_in

    (tmp_path / "a.png").write_bytes(b"png")
    (tmp_path / "b.JPG").write_bytes(b"jpg")
    prompt, images = images_in(f"compare {tmp_path}/a.png and {tmp_path}/b.JPG, and /nope/c.png")
    assert (prompt, images) == ("compare  and , and /nope/c.png", [b"png", b"jpg"])


# `ollama show smollm2:135m --verbose`'s Metadata section (ollama-cli/05-show-verbose.txt),
# arrays shortened to what fits in 10 cells.
SHOW_METADATA = """  Metadata
    general.architecture                      llama                             
    general.languages                         [en]                              
    general.parameter_count                   1.34515008e+08                    
    llama.attention.layer_norm_rms_epsilon    1e-05                             
    llama.rope.freq_base                      100000                            
    tokenizer.ggml.add_bos_token              false                             
    tokenizer.ggml.merges                     [Ġ t Ġ a ...+48898 more]          
    tokenizer.ggml.token_type                 [3 3 3 ...+49149 more]            
    tokenizer.ggml.tokens                     [<|endoftext|> ...+49151 more]    
"""  # noqa: W291 - the trailing spaces are ollama's


def test_show_verbose_metadata_shortens_arrays_as_ollama():
    model_info = {
        "general.architecture": "llama",
        "general.languages": ["en"],
        "general.parameter_count": 134515008,
        "llama.attention.layer_norm_rms_epsilon": 1e-05,
        "llama.rope.freq_base": 100000.0,
        "tokenizer.ggml.add_bos_token": False,
        "tokenizer.ggml.merges": ["Ġ t", "Ġ a", "i n"] + ["x y"] * 48897,
        "tokenizer.ggml.token_type": [3] * 49152,
        "tokenizer.ggml.tokens": ["<|endoftext|>", "<|im_start|>"] + ["a"] * 49150,
    }
    shown = fmt.show({"model_info": model_info}, verbose=True)
    assert "\n" + SHOW_METADATA in shown
