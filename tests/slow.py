"""Tests that take long, with the seconds each took: left out by ``-m "not slow"``, and started
first (tests/conftest.py orders them longest first, so a long test never starts last and keeps
one xdist worker busy while the other idles).

Measured on the 2-core machine while it was shared: the JUnit XML of full runs
(``--junit-xml``; setup + call + teardown, the longest parameter of a parametrized test) of
2026-12-07 (1101 tests, then 1165; load 4-6), the seconds now from the run of 2026-12-08 00:02
(1200 tests, load 7-23: no test not listed took 5 s); a test listed once stays listed (a test
marked slow in its own file, or by a fixture in tests/conftest.py (``seed_build``), counts
too). Every test of 5 s or more is here; refresh the list from a full run when the fast tier
grows past 90 s:

    .venv/bin/python -m pytest -n auto --junit-xml=run.xml
    .venv/bin/python -m tests.slow run.xml > /tmp/slow-table.txt   # then paste it below

Whether the workers are busy: run with ``LAMBDA_SLIM_TEST_CPU=cpu.tsv`` (tests/conftest.py logs
each test's wall and CPU seconds), then ``python -m tests.slow --cpu cpu.tsv``: per worker,
the seconds spent in tests, their CPU, and the idle time before the run's end; the tests that
wait most (wall well above CPU: sleeps, timeouts, the network, a lock another worker holds).
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

#: At least this long (seconds, setup + call + teardown) is slow.
THRESHOLD = 5

#: module file name -> test name (without the parameters) -> seconds measured
SLOW: dict[str, dict[str, int]] = {
    "test_action.py": {
        "test_action_and_workflows_match_the_schemas": 1,
        "test_the_action_builds_checks_and_summarises": 18,
        "test_the_action_posts_a_size_diff_and_fails_on_growth": 42,
    },
    "test_archive_read.py": {
        "test_zip64_many_entries": 2,
    },
    "test_archive_write.py": {
        "test_many_entries_use_zip64_end_record": 7,
    },
    "test_arm64_verify.py": {
        "test_a_sysroot_under_tmp_is_visible_in_the_sandbox": 13,
        "test_arm64_borrowed_library_is_loaded_under_emulation": 8,
        "test_arm64_function_handler_is_imported_under_emulation": 36,
        "test_arm64_overflow_layer_is_started_under_emulation": 34,
        "test_broken_aarch64_so_fails_verification_naming_the_file": 38,
        "test_native_python_flag_and_aarch64_interpreter_from_the_environment": 7,
        "test_numpy_pandas_arm64_layer_verifies_under_emulation": 66,
    },
    "test_borrow.py": {
        "test_a_copy_without_the_needed_symbol_versions_is_not_used": 2,
        "test_lightgbm_gets_libgomp_from_scikit_learns_copy": 26,
        "test_missing_soname_served_by_a_vendored_copy": 1,
    },
    "test_build_errors.py": {
        "test_interrupted_build_keeps_previous_zip": 5,
        "test_no_interpreter_skips_verify_or_fails": 1,
        "test_no_wheel_for_target": 5,
    },
    "test_build_local.py": {
        "test_culprit_is_named_then_repaired": 5,
        "test_dry_run_changes_nothing": 1,
        "test_golden_layer": 1,
        "test_rebuild_is_byte_identical": 4,
        "test_rebuild_needs_no_index": 8,
        "test_smoke_script_runs_against_layer": 2,
    },
    "test_build_locked.py": {
        "test_a_tampered_hash_is_refused": 1,
        "test_locked_package_without_a_wheel_for_the_target": 1,
        "test_poetry_project_builds_exactly_the_locked_versions": 11,
        "test_uv_project_builds_exactly_the_locked_versions": 6,
    },
    "test_build_stack.py": {
        "test_stack_default_build_is_reproducible_and_scores": 92,
        "test_stack_without_bytecode_fits_target": 30,
    },
    "test_check_loadability.py": {
        "test_check_judges_a_built_zip_by_what_its_build_saw_loaded": 4,
        "test_check_verify_imports_a_pip_made_numba_layer_and_judges_its_threading_layers": 58,
        "test_check_verify_refuses_what_an_import_loads_and_judges_the_rest": 2,
        "test_pip_made_numba_and_pillow_layers_pass_with_warnings_and_strict_refuses": 32,
    },
    "test_check_real.py": {
        "test_build_check_publish": 3,
        "test_check_a_built_layer": 2,
        "test_function_plus_built_layer_in_github_actions": 1,
    },
    "test_closure_real.py": {
        "test_audit_matches_the_loader": 1,
    },
    "test_compile_imported.py": {
        "test_all_none_and_smoke": 5,
        "test_default_ships_bytecode_only_for_what_a_cold_start_imports": 1,
        "test_the_handler_import_decides_too": 2,
    },
    "test_diff_why.py": {
        "test_diff_bad_input": 1,
        "test_diff_reports_exact_byte_deltas": 3,
        "test_fail_on_growth_and_job_summary": 1,
        "test_why_from_a_requirements_file_names_the_chain": 3,
    },
    "test_e2e_layers.py": {
        "test_chained_scores_equal_the_unpruned_venv_bit_for_bit": 13,
        "test_invoke_runs_both_functions_as_lambda_and_answers_as_the_venv": 32,
        "test_layer_feature_extraction_rejects_bad_requests": 1,
        "test_layer_scoring_swaps_ensembles_and_rejects_bad_requests": 10,
        "test_smoke_script_passes_against_the_unzipped_layer": 1,
        "test_the_layer_interpreter_sees_only_layer_code_stdlib_and_runtime_boto3": 2,
        "test_traced_layer_is_small_and_scores_bit_for_bit": 151,
    },
    "test_emulation.py": {
        "test_sandbox_around_the_emulated_interpreter": 2,
        "test_the_interpreter_from_python_elf_wrapper_and_env": 2,
    },
    "test_function_package.py": {
        "test_function_on_a_layer_answers_an_api_gateway_event_in_the_sandbox": 27,
        "test_function_with_its_dependencies_at_the_root": 18,
        "test_handler_problems_and_bad_options": 26,
    },
    "test_handler_init.py": {
        "test_a_handler_in_a_folder_inits_and_an_event_invokes_it": 6,
        "test_an_import_error_at_init_fails_the_build_as_lambda_names_it": 2,
        "test_an_init_past_lambdas_10_s_warns_and_past_smoke_timeout_fails": 41,
    },
    "test_handlers.py": {
        "test_ensemble_averages_its_models": 4,
        "test_every_request_shape_gives_the_models_own_scores": 6,
        "test_feature_bad_requests_get_400": 1,
        "test_feature_sources_unavailable_get_503": 5,
        "test_feature_values_are_reproducible_and_format_independent": 7,
        "test_features_for_sample_entities": 1,
        "test_missing_model_gets_503": 8,
        "test_model_is_cached_and_a_swap_is_picked_up": 8,
        "test_score_bad_requests_get_400": 1,
        "test_smoke_script_passes_in_the_venv": 1,
        "test_train_refuses_a_pickle_path": 1,
    },
    "test_installers.py": {
        "test_data_dirs_scripts_and_records": 7,
        "test_real_native_wheels_give_identical_layers": 6,
    },
    "test_invoke.py": {
        "test_a_function_past_its_memory_is_killed_as_out_of_memory": 6,
        "test_a_layer_package_that_relies_on_a_pth_file": 2,
        "test_an_overflow_layer_unpacks_and_serves_the_handler": 3,
        "test_arm64_function_is_invoked_under_emulation": 5,
        "test_client_context_reaches_the_handler": 1,
        "test_handler_in_a_folder_and_a_function_zip": 1,
        "test_import_error_at_init_is_runtime_import_module_error": 1,
        "test_raising_handler_exits_5_with_lambdas_error": 1,
        "test_runtime_sdk_override_is_the_sdk_the_handler_sees": 1,
        "test_sleeping_past_timeout_is_task_timed_out_and_the_runtime_restarts": 8,
        "test_two_events_one_init_then_a_warm_invoke": 1,
    },
    "test_lambda_failures.py": {
        "test_check_names_lightgbm_too": 55,
        "test_lightgbm_needs_libgomp": 30,
        "test_python_magic_loads_libmagic_with_ctypes": 4,
    },
    "test_lambda_limits_build.py": {
        "test_a_function_on_an_overflow_layer_builds": 9,
        "test_a_smoke_using_a_process_pool_is_refused_naming_dev_shm": 3,
        "test_a_smoke_writing_more_than_tmp_holds_is_refused_naming_the_setting": 8,
        "test_matplotlib_saves_a_png_to_tmp_as_on_lambda": 23,
        "test_requests_verifies_on_amazon_linux_2_runtimes": 8,
    },
    "test_locks_real.py": {
        "test_poetry_lock_pins_match_poetry_export": 3,
        "test_uv_lock_pins_match_uv_export": 1,
    },
    "test_markers.py": {
        "test_bootstrap_sets_every_target_marker": 4,
        "test_dependency_markers_are_judged_for_the_target_arch": 1,
        "test_pip_and_the_lock_reader_judge_markers_alike": 2,
        "test_python_version_markers_follow_the_target_not_the_running_python": 1,
        "test_requirement_lines_are_judged_for_the_target_arch": 5,
    },
    "test_misuse_build.py": {
        "test_diamond_includes_are_not_a_loop": 2,
        "test_keep_glob_matching_nothing_warns": 1,
        "test_missing_package_and_unsatisfiable_pin_say_different_things": 2,
        "test_sigterm_removes_staging_and_temp_zips": 3,
        "test_wheel_file_lines_are_accepted": 1,
        "test_wheel_with_a_251_byte_file_name": 2,
        "test_wheel_with_file_and_folder_of_the_same_name": 1,
    },
    "test_misuse_cache.py": {
        "test_budget_verdict_follows_the_current_budget": 9,
        "test_cached_result_is_announced": 2,
        "test_every_input_is_part_of_the_result_cache_key": 8,
        "test_hash_pin_is_checked_on_every_use": 7,
        "test_offline_refresh_never_takes_a_spoiled_wheel_from_the_cache": 3,
        "test_rebuilt_local_wheel_with_the_same_name_is_picked_up": 4,
        "test_smoke_reading_changed_data_is_rerun": 3,
        "test_spoiled_cached_wheel_is_fetched_again_never_shipped": 4,
        "test_spoiled_cached_wheel_without_a_source_is_a_clear_error": 7,
    },
    "test_misuse_check.py": {
        "test_check_on_a_fifo_does_not_hang": 1,
    },
    "test_misuse_cli_coverage.py": {
        "test_build_all_builds_every_layer_and_exits_with_the_worst": 5,
        "test_build_over_budget_exits_1_and_writes_the_zip": 3,
        "test_keep_protects_paths_from_every_rule": 5,
        "test_lambda_slim_environment_variables": 3,
        "test_python_flag_picks_the_interpreter": 1,
        "test_strip_never_touches_vendored_libs": 4,
        "test_strip_takes_vendored_libs_that_still_load": 2,
        "test_trace_granularity_flag": 3,
    },
    "test_misuse_reader_oracle.py": {
        "test_accepted_damaged_zips_satisfy_independent_judges": 1,
    },
    "test_native_targets.py": {
        "test_arm64_build_from_pypi": 14,
        "test_binary_needing_newer_glibc_fails_the_build": 4,
        "test_resolves_for_the_target_interpreter_not_the_host": 12,
        "test_wrong_architecture_fails_the_build": 1,
    },
    "test_overflow_build.py": {
        "test_issue_target_a_stack_twice_the_limit_fits_with_overflow": 111,
        "test_over_budget_prints_ranked_options_with_measured_bytes": 1,
        "test_overflow_packs_what_start_does_not_need_and_starts_like_lambda": 3,
        "test_overflow_that_cannot_fit_says_so_and_exits_1": 2,
    },
    "test_publish_moto.py": {
        "test_an_s3_object_of_the_same_size_but_other_content_is_replaced": 3,
        "test_big_zip_goes_through_s3": 2,
        "test_one_region_failing_does_not_hide_the_others": 1,
    },
    "test_report_browser.py": {
        "test_seed_stack_report_in_chromium": 3,
        "test_squarify_js_matches_python": 1,
    },
    "test_report_fuzz.py": {
        "test_cut_or_spliced_text_is_read_or_refused": 1,
        "test_mutated_manifests_are_read_or_refused_by_diff": 1,
        "test_mutated_reports_are_read_or_refused": 3,
    },
    "test_report_roundtrip.py": {
        "test_report_html_from_the_json_is_the_page_the_build_drew": 1,
    },
    "test_runtime_sdk_build.py": {
        "test_aiobotocore_keeps_botocore_naming_its_pin": 46,
        "test_boto3_newer_than_the_floor_keeps_botocore_and_says_why": 21,
        "test_code_needing_a_newer_sdk_than_the_floor_fails_verification": 177,
    },
    "test_sam_build.py": {
        "test_sam_build_uses_lambda_slim_for_layer_and_function": 54,
    },
    "test_sandbox_build.py": {
        "test_requested_package_whose_import_raises_is_exit_5": 1,
        "test_smoke_timeout_and_memory_limit_are_named": 11,
        "test_smoke_writing_into_the_layer_fails_with_the_path_and_nothing_leaks": 7,
        "test_verified_in_the_sandbox_with_init_time_and_peak_rss": 1,
        "test_without_a_sandbox_one_line_note_and_host_or_exit_6": 1,
    },
    "test_sandbox_lambda.py": {
        "test_matplotlib_falls_back_to_tmp_and_saves_a_png": 17,
    },
    "test_system_libs.py": {
        "test_missing_system_library_is_exit_4_naming_file_soname_and_distribution": 1,
        "test_system_libs_from_pyproject_and_bad_sonames": 1,
        "test_vendored_copy_with_runpath_passes": 1,
    },
    "test_trace.py": {
        "test_a_function_trace_sees_the_functions_layers": 3,
        "test_modules_the_trace_cut_are_reported_not_refused": 5,
        "test_report_shows_what_a_trace_would_save": 3,
        "test_the_trace_finds_code_needing_a_newer_sdk_than_the_floor": 17,
        "test_the_trace_runs_against_the_runtime_sdk_floor": 39,
        "test_trace_command_previews": 1,
        "test_untouched_subpackage_is_removed": 1,
        "test_workload_that_breaks_rolls_the_rule_back": 1,
    },
    "test_untrusted_action.py": {
        "test_an_over_budget_build_fails_the_job": 6,
        "test_no_comment_when_the_diff_step_failed": 6,
        "test_pr_comments_update_only_the_actions_own_and_never_fail_a_fork": 25,
        "test_require_verify_false_lets_a_build_without_the_sandbox_pass": 3,
        "test_the_sandbox_step_installs_bubblewrap_when_it_is_missing": 1,
        "test_the_summary_says_the_sandbox_verified_and_quoted_args_arrive_whole": 3,
    },
    "test_untrusted_markdown.py": {
        "test_check_summary_escapes_paths_in_table_cells": 1,
        "test_diff_markdown_escapes_every_value_and_shows_paths_verbatim": 1,
    },
    "test_untrusted_outputs.py": {
        "test_build_outputs_never_replace_inputs": 2,
        "test_env_files_and_this_builds_outputs_in_the_folder_are_left_out_and_listed": 3,
    },
    "test_untrusted_why.py": {
        "test_why_names_a_requested_wheel_file_line": 1,
    },
    "test_variants_gpu.py": {
        "test_a_payload_an_extension_links_is_kept_and_keep_keeps_one": 1,
        "test_a_variant_without_the_pinned_release_keeps_the_original": 2,
        "test_dependency_on_the_original_is_satisfied_by_the_variant": 4,
        "test_issue_target_xgboost_stack_unpinned_fits_verified_and_announced": 26,
        "test_no_variants_xgboost_drops_nccl_and_still_imports": 37,
        "test_pins_orphaned_by_a_variant_and_cuda_payloads_are_dropped": 3,
    },
    "test_verdicts_real.py": {
        "test_a_file_only_an_optional_plugin_loads_is_a_warning_and_dropped": 6,
        "test_an_extra_top_level_package_needing_an_unrequested_dependency_is_a_warning": 2,
        "test_numba_cache_true_at_import_is_refused_naming_numba_cache_dir": 14,
        "test_numba_compiles_and_its_threading_layers_are_optional_and_dropped": 29,
        "test_pillow_builds_with_imagetk_listed_as_optional": 3,
    },

}


def seconds(module: str, name: str) -> int:
    """What the test took when last measured (0 when it is not slow)."""
    return SLOW.get(module, {}).get(name.split("[", 1)[0], 0)


def table(junit_xml: Path) -> str:
    """The ``SLOW`` table, from a run's JUnit XML, keeping every test listed now."""
    longest: dict[str, dict[str, float]] = {}
    for case in ET.parse(junit_xml).getroot().iter("testcase"):
        module = case.get("classname", "").rsplit(".", 1)[-1] + ".py"
        name = case.get("name", "").split("[", 1)[0]
        took = longest.setdefault(module, {})
        took[name] = max(took.get(name, 0.0), float(case.get("time", "0")))
    lines = []
    for module in sorted(set(longest) | set(SLOW)):
        took = longest.get(module, {})
        rows = {name: max(1, round(s)) for name, s in took.items()
                if s >= THRESHOLD or name in SLOW.get(module, {})}
        rows.update({n: s for n, s in SLOW.get(module, {}).items() if n not in took})
        if rows:
            lines.append(f'    "{module}": {{')
            lines += [f'        "{name}": {s},' for name, s in sorted(rows.items())]
            lines.append("    },")
    return "\n".join(lines)


def cpu_summary(log: Path, top: int = 25) -> str:
    """What a ``LAMBDA_SLIM_TEST_CPU`` log says about the workers (tests/conftest.py)."""
    rows = [line.split("\t") for line in log.read_text().splitlines() if line]
    tests = [(w, float(start), float(wall), float(cpu), nodeid) for w, start, wall, cpu, nodeid in rows]
    t0 = min(t[1] for t in tests)
    end = max(t[1] + t[2] for t in tests)
    lines = [f"{len(tests)} tests in {end - t0:.0f} s; in tests: {sum(t[2] for t in tests):.0f} s "
             f"wall, {sum(t[3] for t in tests):.0f} s CPU"]
    for worker in sorted({t[0] for t in tests}):
        mine = [t for t in tests if t[0] == worker]
        last = max(t[1] + t[2] for t in mine)
        lines.append(f"  {worker}: {len(mine)} tests, {sum(t[2] for t in mine):.0f} s wall, "
                     f"{sum(t[3] for t in mine):.0f} s CPU, idle for the last {end - last:.0f} s")
    lines.append("waiting most (wall - CPU):")
    for w, start, wall, cpu, nodeid in sorted(tests, key=lambda t: t[3] - t[2])[:top]:
        lines.append(f"  {wall - cpu:6.1f} s  (wall {wall:.1f}, CPU {cpu:.1f}, {w} at "
                     f"+{start - t0:.0f} s)  {nodeid}")
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1] == "--cpu":
        print(cpu_summary(Path(sys.argv[2])))
    else:
        print(table(Path(sys.argv[1])))
