-- The fitted parameters of every statistical model, one row per model and parameter,
-- with which of them the predictions use (the chosen purchase model and Gamma-Gamma).
with

fitted as (
    select * from {{ ref('int_clv_models_fitted') }}
),

compared as (
    select * from {{ ref('int_clv_models_compared') }}
),

final as (
    select
        fitted.model_name,
        fitted.parameter_name,
        fitted.parameter_value,
        fitted.standard_error,
        fitted.log_likelihood,
        fitted.n_customers,
        fitted.as_of_date,
        fitted.is_converged,
        fitted.fit_message,
        coalesce(compared.is_chosen, fitted.model_name = 'gamma_gamma') as is_used_for_predictions,
        {{ built_at() }} as built_at
    from fitted
    left join compared
        on fitted.model_name = compared.model_name
)

select * from final
