-- The fitted parameters of every statistical model, one row per model and parameter.
with

fitted as (
    select * from {{ ref('int_clv_models_fitted') }}
),

final as (
    select
        model_name,
        parameter_name,
        parameter_value,
        standard_error,
        log_likelihood,
        n_customers,
        as_of_date,
        is_converged,
        fit_message,
        {{ built_at() }} as built_at
    from fitted
)

select * from final
