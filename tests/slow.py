"""Tests that take long, by module and test name (a parametrized test by its name without the
parameters): left out by ``-m "not slow"``. Measured with ``--durations=0`` on the 2-core
machine while it was shared (setup + call + teardown of 5 s or more, 2026-12-07); a test marked
slow in its own file, or by a fixture in tests/conftest.py (``seed_build``), counts too.
Refresh it from a full run's durations when the fast tier grows past 90 s."""

from __future__ import annotations

SLOW: dict[str, tuple[str, ...]] = {
    "test_action.py": (
        "test_action_and_workflows_match_the_schemas",
        "test_the_action_builds_checks_and_summarises",
        "test_the_action_posts_a_size_diff_and_fails_on_growth",
    ),
    "test_archive_read.py": (
        "test_zip64_many_entries",
    ),
    "test_archive_write.py": (
        "test_many_entries_use_zip64_end_record",
    ),
    "test_arm64_verify.py": (
        "test_broken_aarch64_so_fails_verification_naming_the_file",
        "test_native_python_flag_and_aarch64_interpreter_from_the_environment",
        "test_numpy_pandas_arm64_layer_verifies_under_emulation",
    ),
    "test_borrow.py": (
        "test_a_copy_without_the_needed_symbol_versions_is_not_used",
        "test_lightgbm_gets_libgomp_from_scikit_learns_copy",
        "test_missing_soname_served_by_a_vendored_copy",
    ),
    "test_build_errors.py": (
        "test_interrupted_build_keeps_previous_zip",
        "test_no_interpreter_skips_verify_or_fails",
        "test_no_wheel_for_target",
    ),
    "test_build_local.py": (
        "test_culprit_is_named_then_repaired",
        "test_dry_run_changes_nothing",
        "test_golden_layer",
        "test_rebuild_is_byte_identical",
        "test_rebuild_needs_no_index",
        "test_smoke_script_runs_against_layer",
    ),
    "test_build_locked.py": (
        "test_a_tampered_hash_is_refused",
        "test_locked_package_without_a_wheel_for_the_target",
        "test_poetry_project_builds_exactly_the_locked_versions",
        "test_uv_project_builds_exactly_the_locked_versions",
    ),
    "test_build_stack.py": (
        "test_stack_default_build_is_reproducible_and_scores",
        "test_stack_without_bytecode_fits_target",
    ),
    "test_check_real.py": (
        "test_build_check_publish",
        "test_check_a_built_layer",
        "test_function_plus_built_layer_in_github_actions",
    ),
    "test_closure_real.py": (
        "test_audit_matches_the_loader",
    ),
    "test_compile_imported.py": (
        "test_all_none_and_smoke",
        "test_default_ships_bytecode_only_for_what_a_cold_start_imports",
        "test_the_handler_import_decides_too",
    ),
    "test_diff_why.py": (
        "test_diff_bad_input",
        "test_diff_reports_exact_byte_deltas",
        "test_fail_on_growth_and_job_summary",
        "test_why_from_a_requirements_file_names_the_chain",
    ),
    "test_e2e_layers.py": (
        "test_chained_scores_equal_the_unpruned_venv_bit_for_bit",
        "test_smoke_script_passes_against_the_unzipped_layer",
        "test_the_layer_interpreter_sees_only_layer_code_stdlib_and_runtime_boto3",
        "test_traced_layer_is_small_and_scores_bit_for_bit",
    ),
    "test_emulation.py": (
        "test_sandbox_around_the_emulated_interpreter",
        "test_the_interpreter_from_python_elf_wrapper_and_env",
    ),
    "test_function_package.py": (
        "test_function_on_a_layer_answers_an_api_gateway_event_in_the_sandbox",
        "test_function_with_its_dependencies_at_the_root",
        "test_handler_problems_and_bad_options",
    ),
    "test_handler_init.py": (
        "test_a_handler_in_a_folder_inits_and_an_event_invokes_it",
        "test_an_import_error_at_init_fails_the_build_as_lambda_names_it",
        "test_an_init_past_lambdas_10_s_warns_and_past_smoke_timeout_fails",
    ),
    "test_handlers.py": (
        "test_ensemble_averages_its_models",
        "test_every_request_shape_gives_the_models_own_scores",
        "test_feature_bad_requests_get_400",
        "test_feature_sources_unavailable_get_503",
        "test_feature_values_are_reproducible_and_format_independent",
        "test_features_for_sample_entities",
        "test_missing_model_gets_503",
        "test_model_is_cached_and_a_swap_is_picked_up",
        "test_score_bad_requests_get_400",
        "test_smoke_script_passes_in_the_venv",
        "test_train_refuses_a_pickle_path",
    ),
    "test_installers.py": (
        "test_data_dirs_scripts_and_records",
        "test_real_native_wheels_give_identical_layers",
    ),
    "test_invoke.py": (
        "test_a_function_past_its_memory_is_killed_as_out_of_memory",
        "test_a_layer_package_that_relies_on_a_pth_file",
        "test_an_overflow_layer_unpacks_and_serves_the_handler",
        "test_client_context_reaches_the_handler",
        "test_handler_in_a_folder_and_a_function_zip",
        "test_import_error_at_init_is_runtime_import_module_error",
        "test_raising_handler_exits_5_with_lambdas_error",
        "test_runtime_sdk_override_is_the_sdk_the_handler_sees",
        "test_sleeping_past_timeout_is_task_timed_out_and_the_runtime_restarts",
        "test_two_events_one_init_then_a_warm_invoke",
    ),
    "test_lambda_failures.py": (
        "test_check_names_lightgbm_too",
        "test_lightgbm_needs_libgomp",
        "test_python_magic_loads_libmagic_with_ctypes",
    ),
    "test_locks_real.py": (
        "test_poetry_lock_pins_match_poetry_export",
        "test_uv_lock_pins_match_uv_export",
    ),
    "test_markers.py": (
        "test_bootstrap_sets_every_target_marker",
        "test_dependency_markers_are_judged_for_the_target_arch",
        "test_pip_and_the_lock_reader_judge_markers_alike",
        "test_python_version_markers_follow_the_target_not_the_running_python",
        "test_requirement_lines_are_judged_for_the_target_arch",
    ),
    "test_misuse_build.py": (
        "test_diamond_includes_are_not_a_loop",
        "test_keep_glob_matching_nothing_warns",
        "test_missing_package_and_unsatisfiable_pin_say_different_things",
        "test_sigterm_removes_staging_and_temp_zips",
        "test_wheel_file_lines_are_accepted",
        "test_wheel_with_a_251_byte_file_name",
        "test_wheel_with_file_and_folder_of_the_same_name",
    ),
    "test_misuse_cache.py": (
        "test_budget_verdict_follows_the_current_budget",
        "test_cached_result_is_announced",
        "test_every_input_is_part_of_the_result_cache_key",
        "test_hash_pin_is_checked_on_every_use",
        "test_offline_refresh_never_takes_a_spoiled_wheel_from_the_cache",
        "test_rebuilt_local_wheel_with_the_same_name_is_picked_up",
        "test_smoke_reading_changed_data_is_rerun",
        "test_spoiled_cached_wheel_is_fetched_again_never_shipped",
        "test_spoiled_cached_wheel_without_a_source_is_a_clear_error",
    ),
    "test_misuse_check.py": (
        "test_check_on_a_fifo_does_not_hang",
    ),
    "test_misuse_cli_coverage.py": (
        "test_build_all_builds_every_layer_and_exits_with_the_worst",
        "test_build_over_budget_exits_1_and_writes_the_zip",
        "test_keep_protects_paths_from_every_rule",
        "test_lambda_slim_environment_variables",
        "test_python_flag_picks_the_interpreter",
        "test_strip_never_touches_vendored_libs",
        "test_trace_granularity_flag",
    ),
    "test_misuse_reader_oracle.py": (
        "test_accepted_damaged_zips_satisfy_independent_judges",
    ),
    "test_native_targets.py": (
        "test_arm64_build_from_pypi",
        "test_binary_needing_newer_glibc_fails_the_build",
        "test_resolves_for_the_target_interpreter_not_the_host",
        "test_wrong_architecture_fails_the_build",
    ),
    "test_overflow_build.py": (
        "test_issue_target_a_stack_twice_the_limit_fits_with_overflow",
        "test_over_budget_prints_ranked_options_with_measured_bytes",
        "test_overflow_packs_what_start_does_not_need_and_starts_like_lambda",
        "test_overflow_that_cannot_fit_says_so_and_exits_1",
    ),
    "test_publish_moto.py": (
        "test_an_s3_object_of_the_same_size_but_other_content_is_replaced",
        "test_big_zip_goes_through_s3",
        "test_one_region_failing_does_not_hide_the_others",
    ),
    "test_report_browser.py": (
        "test_seed_stack_report_in_chromium",
        "test_squarify_js_matches_python",
    ),
    "test_report_fuzz.py": (
        "test_cut_or_spliced_text_is_read_or_refused",
        "test_mutated_manifests_are_read_or_refused_by_diff",
        "test_mutated_reports_are_read_or_refused",
    ),
    "test_report_roundtrip.py": (
        "test_report_html_from_the_json_is_the_page_the_build_drew",
    ),
    "test_runtime_sdk_build.py": (
        "test_aiobotocore_keeps_botocore_naming_its_pin",
        "test_boto3_newer_than_the_floor_keeps_botocore_and_says_why",
        "test_code_needing_a_newer_sdk_than_the_floor_fails_verification",
    ),
    "test_sam_build.py": (
        "test_sam_build_uses_lambda_slim_for_layer_and_function",
    ),
    "test_sandbox_build.py": (
        "test_requested_package_whose_import_raises_is_exit_5",
        "test_smoke_timeout_and_memory_limit_are_named",
        "test_smoke_writing_into_the_layer_fails_with_the_path_and_nothing_leaks",
        "test_verified_in_the_sandbox_with_init_time_and_peak_rss",
        "test_without_a_sandbox_one_line_note_and_host_or_exit_6",
    ),
    "test_system_libs.py": (
        "test_missing_system_library_is_exit_4_naming_file_soname_and_distribution",
        "test_system_libs_from_pyproject_and_bad_sonames",
        "test_vendored_copy_with_runpath_passes",
    ),
    "test_trace.py": (
        "test_report_shows_what_a_trace_would_save",
        "test_trace_command_previews",
        "test_untouched_subpackage_is_removed",
        "test_workload_that_breaks_rolls_the_rule_back",
    ),
    "test_untrusted_action.py": (
        "test_an_over_budget_build_fails_the_job",
        "test_no_comment_when_the_diff_step_failed",
        "test_pr_comments_update_only_the_actions_own_and_never_fail_a_fork",
        "test_require_verify_false_lets_a_build_without_the_sandbox_pass",
        "test_the_summary_says_the_sandbox_verified_and_quoted_args_arrive_whole",
    ),
    "test_untrusted_markdown.py": (
        "test_check_summary_escapes_paths_in_table_cells",
        "test_diff_markdown_escapes_every_value_and_shows_paths_verbatim",
    ),
    "test_untrusted_outputs.py": (
        "test_build_outputs_never_replace_inputs",
        "test_env_files_and_this_builds_outputs_in_the_folder_are_left_out_and_listed",
    ),
    "test_variants_gpu.py": (
        "test_a_payload_an_extension_links_is_kept_and_keep_keeps_one",
        "test_a_variant_without_the_pinned_release_keeps_the_original",
        "test_dependency_on_the_original_is_satisfied_by_the_variant",
        "test_issue_target_xgboost_stack_unpinned_fits_verified_and_announced",
        "test_no_variants_xgboost_drops_nccl_and_still_imports",
        "test_pins_orphaned_by_a_variant_and_cuda_payloads_are_dropped",
    ),
    "test_verdicts_real.py": (
        "test_a_file_only_an_optional_plugin_loads_is_a_warning_and_dropped",
        "test_an_extra_top_level_package_needing_an_unrequested_dependency_is_a_warning",
        "test_pillow_builds_with_imagetk_listed_as_optional",
    ),
}
