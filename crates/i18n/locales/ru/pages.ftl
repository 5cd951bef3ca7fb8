# Страницы: общий макет, затем каждая страница в том порядке, в каком их видит человек.

site-name = Каталог
site-tagline = Каталог — товары и люди, которые их делают.
nav-main = Основное меню
nav-categories = Категории
nav-products = Товары
nav-new-product = Новый товар
nav-profile = Профиль
nav-sign-out = Выйти
nav-sign-in = Войти
nav-register = Зарегистрироваться
language-switch = Язык
language-switch-button = Сменить
language-name-en = English
language-name-ru = Русский

errors-summary = Исправьте, пожалуйста, ошибки ниже.
back-to-start = На главную

home-title = Добро пожаловать
home-heading = Каталог
home-lead = Каталог товаров, который ведут те, кто их делает.
home-browse = Смотреть товары
home-create-account = Создать аккаунт
home-or = или
home-sign-in = войти

login-title = Вход
login-heading = Вход
login-resend = Отправить ссылку для подтверждения ещё раз
login-email = Электронная почта
login-password = Пароль
login-submit = Войти
login-forgot = Забыли пароль?
login-new-here = Впервые здесь?
login-create-account = Создайте аккаунт

register-title = Регистрация
register-heading = Регистрация
register-email = Электронная почта
register-password = Пароль
register-password-help = Не меньше 8 символов, не только цифры и не из числа распространённых паролей.
register-password-again = Пароль ещё раз
register-submit = Зарегистрироваться
register-have-account = Уже есть аккаунт?
register-sign-in = Войти

register-done-heading = Проверьте почту
register-done-sent = Если этот адрес можно зарегистрировать, на него уже идёт письмо со ссылкой для подтверждения. Перейдите по ней, чтобы активировать аккаунт.
register-done-spam = Письмо не пришло за несколько минут? Загляните в папку «Спам» или войдите, чтобы получить ссылку ещё раз.

verify-heading = Подтвердите адрес электронной почты
verify-text = Подтвердите, что { $email } — ваш адрес, чтобы активировать аккаунт.
verify-button = Подтвердить адрес
link-invalid-title = Ссылка недействительна
link-invalid-heading = Этой ссылкой нельзя воспользоваться
link-invalid-new = Получить новую ссылку
link-invalid-email = Электронная почта
link-invalid-submit = Отправить новую ссылку
link-expired-reason = Срок действия ссылки истёк: ссылки действуют три дня.
link-broken-reason = Ссылка для подтверждения недействительна. Возможно, её скопировали не полностью.
link-enter-address = Введите адрес, с которым вы регистрировались.

reset-title = Восстановление пароля
reset-heading = Забыли пароль?
reset-lead = Введите адрес электронной почты. Мы пришлём новый пароль, который действует один час; текущий пароль работает, пока вы не воспользуетесь новым.
reset-email = Электронная почта
reset-submit = Прислать новый пароль
reset-done-heading = Проверьте почту
reset-done-sent = Если этот адрес принадлежит какому-либо аккаунту, мы отправили на него новый пароль, который действует один час.
reset-done-keeps = Текущий пароль работает, пока вы не войдёте с новым.

password-change-title = Смена пароля
password-change-heading = Смена пароля
password-change-required = Вы вошли с выданным паролем. Чтобы продолжить, придумайте собственный пароль.
password-change-old = Текущий пароль
password-change-new = Новый пароль
password-change-new-again = Новый пароль ещё раз
password-change-submit = Сменить пароль

email-change-title = Смена адреса почты
email-change-heading = Смена адреса электронной почты
email-change-lead = Мы отправим ссылку на новый адрес; ничего не изменится, пока вы по ней не перейдёте.
email-change-new = Новый адрес
email-change-password = Текущий пароль
email-change-submit = Отправить ссылку для подтверждения
email-confirm-heading = Подтвердите новый адрес
email-confirm-text = Сделать { $email } адресом вашего аккаунта.
email-confirm-button = Подтвердить адрес
email-link-expired-title = Срок действия ссылки истёк
email-link-expired = Срок действия ссылки истёк: ссылки действуют три дня. Запросите смену адреса ещё раз.
email-link-invalid-title = Ссылка недействительна
email-link-invalid = Ссылка для подтверждения недействительна. Возможно, её скопировали не полностью.
email-link-used-title = Ссылка уже использована
email-link-used = Эта смена адреса уже подтверждена или заменена более новым запросом.
email-link-taken-title = Адрес занят
email-link-taken = Этот адрес уже принадлежит другому аккаунту, поэтому его нельзя сделать вашим.

profile-title = Профиль
profile-heading = Ваш профиль
profile-signed-in-as = Вы вошли как
profile-change-email = Сменить адрес почты
profile-change-password = Сменить пароль
profile-first-name = Имя
profile-last-name = Фамилия
profile-country = Страна
profile-phone = Телефон
profile-phone-help = В международном формате (+7 912 345-67-89) или в национальном формате выбранной выше страны.
profile-avatar = Аватар
profile-avatar-current = Ваш текущий аватар
profile-language = Язык сайта и наших писем
profile-submit = Сохранить профиль

products-title = Товары
products-heading = Товары
products-new = Новый товар
products-empty = Товаров пока нет.
products-create-first = Добавьте первый
products-sign-in = Войдите
products-sign-in-to-add = , чтобы добавить товар.
products-total = { $count ->
    [one] { $count } товар, сначала новые.
    [few] { $count } товара, сначала новые.
   *[many] { $count } товаров, сначала новые.
  }
products-count = { $count ->
    [one] { $count } товар
    [few] { $count } товара
   *[many] { $count } товаров
  }
products-pages = Страницы
products-previous = Назад
products-next = Вперёд
products-page-of = Страница { $page } из { $pages }
products-search = Поиск товаров
products-search-label = Что искать
products-search-help = Найдутся товары со всеми словами. Фразу возьмите в кавычки, а перед словом, которого не должно быть, поставьте минус.
products-search-submit = Найти
products-filters = Фильтры
products-filter-category = Категория
products-filter-any-category = Все категории
products-filter-min-price = Цена от
products-filter-max-price = Цена до
products-filter-mine = Только мои товары, включая черновики
products-filter-status = Состояние
products-filter-any-status = Любое состояние
products-filter-published = Опубликован
products-filter-unpublished = Снят с публикации
products-filter-locked = Снят с публикации модератором
products-sort = Порядок
products-sort-new = Сначала новые
products-sort-relevance = Сначала самые подходящие
products-sort-price = Сначала дешёвые
products-sort-price-descending = Сначала дорогие
products-sort-name = По названию
products-filters-clear = Сбросить фильтры
products-found = { $count ->
    [one] Найден { $count } товар.
    [few] Найдено { $count } товара.
   *[many] Найдено { $count } товаров.
  }
products-no-match = Ничего не нашлось. Попробуйте меньше слов или другие фильтры.
products-in-category = Товары в категории «{ $category }»
categories-title = Категории
categories-heading = Категории
categories-empty = Категорий пока нет.
product-image-original = Скачать исходное изображение
product-unpublished = Снят с публикации
product-unpublished-by-moderator = Снят с публикации модератором
product-all = ← Все товары
product-price = Цена
product-category = Категория
product-owner = Владелец
product-added = Добавлен
product-versions = Версии
product-no-versions = Версий пока нет.
product-version-number = Номер
product-version-name = Название
product-version-current = Текущая
product-edit = Изменить
product-delete = Удалить

product-form-new = Новый товар
product-form-create = Создать товар
product-form-edit = Изменение: { $name }
product-form-save = Сохранить товар
product-form-cancel = Отмена
product-form-rows-invalid = Исправьте, пожалуйста, версии ниже.
product-form-name = Название
product-form-description = Описание
product-form-category = Категория
product-form-choose-category = Выберите категорию…
product-form-price = Цена
product-form-price-help = Неотрицательная сумма, не больше двух знаков после запятой, например 199,99.
product-form-image = Изображение
product-form-image-current = Текущее изображение
product-form-published = Опубликован
product-form-versions = Версии
product-form-version-number = Номер
product-form-version-name = Название
product-form-version-current = Текущая
product-form-version-remove = Удалить
product-form-version-number-label = Номер версии
product-form-version-number-new-label = Номер версии (новой)
product-form-version-name-label = Название версии
product-form-version-current-label = Текущая версия
product-form-version-remove-label = Удалить эту версию
product-form-no-current = Нет текущей версии
product-form-versions-help = Чтобы добавить версию, заполните пустую строку. Если отметить версию текущей, предыдущая перестанет быть текущей.
product-delete-heading = Удалить «{ $name }»?
product-delete-text = Товар, его изображение и версии будут удалены безвозвратно.
product-delete-button = Удалить товар
