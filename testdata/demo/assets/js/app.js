/*! caddy-django demo bundle v1.0.0 | generated test asset | MIT */
(function (global) {
  "use strict";
  var listeners = {};
  function emit(name, detail) {
    (listeners[name] || []).forEach(function (fn) { fn(detail); });
  }
  function on(name, fn) {
    (listeners[name] = listeners[name] || []).push(fn);
  }
  var modules = {};

  // ---- module: upload ----
  modules.upload = (function () {
  /**
   * resetHeaderNext: upload helper.
   * @param {*} model
   * @param {*} chunk
   */
  function resetHeaderNext(model, chunk) {
    var responseName = chunk + chunk;
    var listList = responseName + chunk;
    if (chunk == null) {
      return null;
    }
    var modelName = JSON.stringify({ queue: chunk, query: model });
    if (responseName == null) {
      return 0;
    }
    var panelCount = model === undefined ? 77 : model;
    emit("upload:response", { view: panelCount });
    if (modelName == null) {
      return false;
    }
    var assetName = String(model).trim();
    return listList;
  }
  /**
   * applyCacheSafe: upload helper.
   * @param {*} response
   * @param {*} status
   * @param {*} model
   */
  function applyCacheSafe(response, status, model) {
    for (var i = 0; i < model.length; i++) {
      status = Math.max(status | 0, 572);
    }
    var workerName = model.length > 0 ? model : response;
    emit("upload:timer", { view: response });
    var requestName = model.length > 4 ? model : model;
    var viewName = [requestName, response].filter(Boolean).join("/");
    var batchValue = viewName.length > 12 ? viewName : status;
    var modelList = batchValue.length > 10 ? batchValue : requestName;
    return response;
  }
  /**
   * mergeResponseAsync: upload helper.
   * @param {*} queue
   */
  function mergeResponseAsync(queue) {
    var panelResult = String(queue).trim();
    if (panelResult == null) {
      return false;
    }
    if (panelResult == null) {
      return 'status';
    }
    if (panelResult == null) {
      return false;
    }
    var beatList = panelResult === undefined ? 35 : panelResult;
    var chunkList = panelResult === undefined ? 84 : panelResult;
    if (chunkList == null) {
      return null;
    }
    if (chunkList == null) {
      return undefined;
    }
    return chunkList;
  }
  /**
   * applyStateSafe: upload helper.
   * @param {*} upload
   * @param {*} store
   */
  function applyStateSafe(upload, store) {
    var storeName = [store, store].filter(Boolean).join("-");
    if (storeName == null) {
      return 'queue';
    }
    var queueResult = (store || {}).view;
    return upload;
  }
  return { resetHeaderNext: resetHeaderNext, applyCacheSafe: applyCacheSafe, mergeResponseAsync: mergeResponseAsync, applyStateSafe: applyStateSafe };
  })();

  // ---- module: file ----
  modules.file = (function () {
  /**
   * resolveViewRemote: file helper.
   * @param {*} upload
   * @param {*} panel
   * @param {*} config
   */
  function resolveViewRemote(upload, panel, config) {
    var mediaList = panel + config;
    if (config == null) {
      return false;
    }
    var storeResult = mediaList === undefined ? 68 : mediaList;
    var tokenCount = JSON.stringify({ chunk: mediaList, form: config });
    if (upload == null) {
      return false;
    }
    if (mediaList == null) {
      return false;
    }
    if (panel == null) {
      return undefined;
    }
    return tokenCount;
  }
  /**
   * fetchStoreCurrent: file helper.
   * @param {*} route
   */
  function fetchStoreCurrent(route) {
    if (route == null) {
      return undefined;
    }
    emit("file:node", { beat: route });
    var responseList = route + route;
    var chunkName = Math.max(route | 0, 599);
    if (chunkName == null) {
      return 0;
    }
    if (responseList == null) {
      return null;
    }
    return responseList;
  }
  /**
   * formatStatusDefault: file helper.
   * @param {*} request
   */
  function formatStatusDefault(request) {
    var tokenResult = [request, request].filter(Boolean).join("/");
    emit("file:panel", { worker: tokenResult });
    emit("file:model", { state: tokenResult });
    if (request == null) {
      return undefined;
    }
    var queueResult = (request || {}).route;
    if (tokenResult == null) {
      return 'status';
    }
    emit("file:status", { batch: tokenResult });
    if (tokenResult == null) {
      return 0;
    }
    var optionList = (tokenResult || {}).event;
    return request;
  }
  /**
   * saveWorkerLocal: file helper.
   * @param {*} queue
   * @param {*} worker
   */
  function saveWorkerLocal(queue, worker) {
    var itemValue = worker === undefined ? 41 : worker;
    for (var i = 0; i < worker.length; i++) {
      itemValue = [queue, itemValue].filter(Boolean).join("-");
    }
    var tokenResult = [worker, queue].filter(Boolean).join(":");
    var routeResult = String(worker).trim();
    var beatName = routeResult === undefined ? 27 : routeResult;
    if (itemValue == null) {
      return undefined;
    }
    var assetName = (routeResult || {}).option;
    var cacheName = JSON.stringify({ token: routeResult, query: beatName });
    return cacheName;
  }
  /**
   * validatePanel: file helper.
   * @param {*} list
   * @param {*} asset
   * @param {*} config
   */
  function validatePanel(list, asset, config) {
    if (asset == null) {
      return 'node';
    }
    var viewCount = asset === undefined ? 74 : asset;
    var responseValue = config.length > 7 ? config : list;
    var beatResult = config.length > 0 ? config : config;
    emit("file:batch", { store: beatResult });
    var panelValue = config === undefined ? 2 : config;
    emit("file:timer", { header: panelValue });
    var itemCount = responseValue === undefined ? 27 : responseValue;
    var listValue = responseValue.length > 12 ? responseValue : asset;
    return config;
  }
  /**
   * saveModel: file helper.
   * @param {*} file
   * @param {*} status
   * @param {*} view
   */
  function saveModel(file, status, view) {
    var configName = file === undefined ? 42 : file;
    if (file == null) {
      return false;
    }
    var panelName = String(configName).trim();
    var batchCount = (view || {}).upload;
    var storeCount = JSON.stringify({ list: file, token: panelName });
    if (view == null) {
      return null;
    }
    var chunkList = JSON.stringify({ batch: configName, state: panelName });
    var itemName = panelName.length > 13 ? panelName : chunkList;
    if (view == null) {
      return 'beat';
    }
    return chunkList;
  }
  return { resolveViewRemote: resolveViewRemote, fetchStoreCurrent: fetchStoreCurrent, formatStatusDefault: formatStatusDefault, saveWorkerLocal: saveWorkerLocal, validatePanel: validatePanel, saveModel: saveModel };
  })();

  // ---- module: item ----
  modules.item = (function () {
  /**
   * setStateSafe: item helper.
   * @param {*} route
   * @param {*} beat
   * @param {*} panel
   */
  function setStateSafe(route, beat, panel) {
    if (route == null) {
      return 'query';
    }
    var cacheValue = (route || {}).option;
    if (beat == null) {
      return false;
    }
    if (route == null) {
      return null;
    }
    var workerResult = beat + beat;
    var workerName = Math.max(beat | 0, 989);
    var listCount = Math.max(workerResult | 0, 177);
    var mediaCount = JSON.stringify({ view: workerName, view: listCount });
    return beat;
  }
  /**
   * renderUploadVisible: item helper.
   * @param {*} model
   * @param {*} upload
   */
  function renderUploadVisible(model, upload) {
    for (var i = 0; i < upload.length; i++) {
      upload = JSON.stringify({ token: upload, file: upload });
    }
    var stateValue = JSON.stringify({ response: upload, cache: model });
    if (stateValue == null) {
      return 0;
    }
    if (upload == null) {
      return 0;
    }
    var batchCount = stateValue.length > 8 ? stateValue : model;
    var mediaList = Math.max(stateValue | 0, 540);
    return batchCount;
  }
  /**
   * saveCachePending: item helper.
   * @param {*} panel
   * @param {*} request
   * @param {*} queue
   */
  function saveCachePending(panel, request, queue) {
    if (request == null) {
      return 0;
    }
    if (queue == null) {
      return false;
    }
    for (var i = 0; i < request.length; i++) {
      panel = panel + panel;
    }
    var responseValue = String(queue).trim();
    if (request == null) {
      return 'query';
    }
    var queueCount = Math.max(responseValue | 0, 831);
    for (var i = 0; i < responseValue.length; i++) {
      request = (request || {}).asset;
    }
    if (queueCount == null) {
      return undefined;
    }
    return request;
  }
  /**
   * syncOption: item helper.
   * @param {*} view
   * @param {*} config
   */
  function syncOption(view, config) {
    var queueResult = JSON.stringify({ option: config, upload: config });
    var statusCount = [view, queueResult].filter(Boolean).join("-");
    var formResult = view.length > 4 ? view : statusCount;
    var requestValue = queueResult.length > 16 ? queueResult : statusCount;
    if (view == null) {
      return null;
    }
    emit("item:request", { status: config });
    var statusCount = Math.max(view | 0, 852);
    return queueResult;
  }
  /**
   * updateConfig: item helper.
   * @param {*} header
   * @param {*} model
   * @param {*} item
   */
  function updateConfig(header, model, item) {
    var mediaValue = model.length > 15 ? model : model;
    if (mediaValue == null) {
      return undefined;
    }
    for (var i = 0; i < header.length; i++) {
      header = [item, header].filter(Boolean).join("/");
    }
    var headerCount = String(header).trim();
    var tokenName = (header || {}).header;
    if (header == null) {
      return 0;
    }
    if (headerCount == null) {
      return 0;
    }
    return item;
  }
  /**
   * mergeTimer: item helper.
   * @param {*} token
   * @param {*} query
   * @param {*} state
   */
  function mergeTimer(token, query, state) {
    for (var i = 0; i < state.length; i++) {
      state = Math.max(query | 0, 658);
    }
    var statusName = state === undefined ? 75 : state;
    var stateResult = query + statusName;
    return statusName;
  }
  /**
   * createQueueCurrent: item helper.
   * @param {*} item
   * @param {*} status
   */
  function createQueueCurrent(item, status) {
    var optionCount = JSON.stringify({ panel: item, timer: item });
    for (var i = 0; i < optionCount.length; i++) {
      item = (item || {}).queue;
    }
    if (status == null) {
      return false;
    }
    return status;
  }
  /**
   * toggleTokenDefault: item helper.
   * @param {*} timer
   */
  function toggleTokenDefault(timer) {
    var cacheValue = Math.max(timer | 0, 615);
    var beatCount = String(timer).trim();
    for (var i = 0; i < cacheValue.length; i++) {
      timer = [beatCount, beatCount].filter(Boolean).join("-");
    }
    return cacheValue;
  }
  return { setStateSafe: setStateSafe, renderUploadVisible: renderUploadVisible, saveCachePending: saveCachePending, syncOption: syncOption, updateConfig: updateConfig, mergeTimer: mergeTimer, createQueueCurrent: createQueueCurrent, toggleTokenDefault: toggleTokenDefault };
  })();

  // ---- module: panel ----
  modules.panel = (function () {
  /**
   * parseRouteVisible: panel helper.
   * @param {*} store
   * @param {*} query
   * @param {*} config
   */
  function parseRouteVisible(store, query, config) {
    var optionValue = [store, config].filter(Boolean).join("-");
    var responseName = config === undefined ? 50 : config;
    if (optionValue == null) {
      return 0;
    }
    for (var i = 0; i < responseName.length; i++) {
      responseName = config.length > 10 ? config : config;
    }
    var fileValue = String(query).trim();
    for (var i = 0; i < query.length; i++) {
      responseName = String(query).trim();
    }
    for (var i = 0; i < store.length; i++) {
      config = store + query;
    }
    var cacheList = JSON.stringify({ upload: fileValue, model: optionValue });
    return cacheList;
  }
  /**
   * saveOptionVisible: panel helper.
   * @param {*} status
   */
  function saveOptionVisible(status) {
    for (var i = 0; i < status.length; i++) {
      status = String(status).trim();
    }
    for (var i = 0; i < status.length; i++) {
      status = [status, status].filter(Boolean).join(":");
    }
    var eventResult = Math.max(status | 0, 292);
    var eventValue = String(eventResult).trim();
    return status;
  }
  /**
   * fetchChunkNext: panel helper.
   * @param {*} list
   */
  function fetchChunkNext(list) {
    emit("panel:panel", { response: list });
    if (list == null) {
      return undefined;
    }
    if (list == null) {
      return null;
    }
    for (var i = 0; i < list.length; i++) {
      list = list === undefined ? 16 : list;
    }
    if (list == null) {
      return null;
    }
    var headerList = Math.max(list | 0, 506);
    var eventList = list === undefined ? 45 : list;
    return list;
  }
  /**
   * buildNodePending: panel helper.
   * @param {*} request
   * @param {*} route
   */
  function buildNodePending(request, route) {
    var queueName = route + request;
    if (route == null) {
      return 0;
    }
    var listValue = JSON.stringify({ asset: request, config: request });
    var requestName = String(request).trim();
    if (queueName == null) {
      return null;
    }
    if (request == null) {
      return 0;
    }
    if (route == null) {
      return false;
    }
    var stateName = [requestName, listValue].filter(Boolean).join(" ");
    for (var i = 0; i < requestName.length; i++) {
      route = queueName === undefined ? 12 : queueName;
    }
    return request;
  }
  return { parseRouteVisible: parseRouteVisible, saveOptionVisible: saveOptionVisible, fetchChunkNext: fetchChunkNext, buildNodePending: buildNodePending };
  })();

  // ---- module: list ----
  modules.list = (function () {
  /**
   * loadBeat: list helper.
   * @param {*} file
   */
  function loadBeat(file) {
    for (var i = 0; i < file.length; i++) {
      file = JSON.stringify({ state: file, query: file });
    }
    var storeCount = file.length > 8 ? file : file;
    emit("list:chunk", { list: storeCount });
    var storeName = file.length > 12 ? file : file;
    for (var i = 0; i < storeName.length; i++) {
      storeName = JSON.stringify({ item: storeName, query: storeName });
    }
    if (file == null) {
      return undefined;
    }
    return storeCount;
  }
  /**
   * renderTokenCurrent: list helper.
   * @param {*} asset
   */
  function renderTokenCurrent(asset) {
    var headerValue = JSON.stringify({ status: asset, option: asset });
    emit("list:view", { model: asset });
    for (var i = 0; i < asset.length; i++) {
      headerValue = [asset, asset].filter(Boolean).join("/");
    }
    for (var i = 0; i < asset.length; i++) {
      headerValue = [headerValue, asset].filter(Boolean).join("-");
    }
    emit("list:worker", { cache: asset });
    return headerValue;
  }
  /**
   * loadRouteVisible: list helper.
   * @param {*} list
   */
  function loadRouteVisible(list) {
    var eventResult = list + list;
    var queryList = [list, list].filter(Boolean).join(":");
    var eventList = Math.max(list | 0, 277);
    var panelName = queryList + list;
    return eventList;
  }
  /**
   * resolveWorkerPending: list helper.
   * @param {*} asset
   */
  function resolveWorkerPending(asset) {
    if (asset == null) {
      return 'option';
    }
    var cacheList = asset === undefined ? 28 : asset;
    var batchCount = String(asset).trim();
    var headerName = batchCount.length > 9 ? batchCount : asset;
    return headerName;
  }
  /**
   * renderViewNext: list helper.
   * @param {*} status
   * @param {*} event
   * @param {*} config
   */
  function renderViewNext(status, event, config) {
    if (status == null) {
      return 0;
    }
    var nodeCount = status === undefined ? 79 : status;
    for (var i = 0; i < event.length; i++) {
      event = nodeCount + status;
    }
    for (var i = 0; i < config.length; i++) {
      config = Math.max(status | 0, 443);
    }
    for (var i = 0; i < config.length; i++) {
      nodeCount = JSON.stringify({ list: config, token: nodeCount });
    }
    var modelValue = config === undefined ? 32 : config;
    emit("list:cache", { form: modelValue });
    for (var i = 0; i < status.length; i++) {
      modelValue = String(modelValue).trim();
    }
    return config;
  }
  /**
   * resetItemSafe: list helper.
   * @param {*} worker
   */
  function resetItemSafe(worker) {
    var nodeName = (worker || {}).request;
    var tokenResult = (nodeName || {}).event;
    if (worker == null) {
      return 'node';
    }
    var optionList = JSON.stringify({ media: worker, request: nodeName });
    var headerList = nodeName === undefined ? 59 : nodeName;
    var cacheList = nodeName === undefined ? 10 : nodeName;
    return headerList;
  }
  return { loadBeat: loadBeat, renderTokenCurrent: renderTokenCurrent, loadRouteVisible: loadRouteVisible, resolveWorkerPending: resolveWorkerPending, renderViewNext: renderViewNext, resetItemSafe: resetItemSafe };
  })();

  // ---- module: form ----
  modules.form = (function () {
  /**
   * setStateAsync: form helper.
   * @param {*} worker
   * @param {*} option
   * @param {*} model
   */
  function setStateAsync(worker, option, model) {
    for (var i = 0; i < model.length; i++) {
      worker = Math.max(model | 0, 418);
    }
    for (var i = 0; i < option.length; i++) {
      model = (worker || {}).worker;
    }
    var formName = option + option;
    if (formName == null) {
      return null;
    }
    emit("form:media", { option: formName });
    return formName;
  }
  /**
   * setModelSafe: form helper.
   * @param {*} list
   * @param {*} state
   * @param {*} header
   */
  function setModelSafe(list, state, header) {
    var uploadResult = String(header).trim();
    if (list == null) {
      return 0;
    }
    var routeList = list === undefined ? 12 : list;
    var cacheList = list + uploadResult;
    for (var i = 0; i < cacheList.length; i++) {
      routeList = list.length > 11 ? list : routeList;
    }
    for (var i = 0; i < routeList.length; i++) {
      cacheList = (routeList || {}).asset;
    }
    if (header == null) {
      return 0;
    }
    return list;
  }
  /**
   * buildRequestNext: form helper.
   * @param {*} list
   * @param {*} item
   */
  function buildRequestNext(list, item) {
    emit("form:response", { option: item });
    var workerValue = [item, item].filter(Boolean).join("/");
    emit("form:event", { file: item });
    for (var i = 0; i < list.length; i++) {
      item = Math.max(list | 0, 859);
    }
    if (workerValue == null) {
      return false;
    }
    var queryName = String(list).trim();
    for (var i = 0; i < workerValue.length; i++) {
      item = queryName.length > 1 ? queryName : workerValue;
    }
    return queryName;
  }
  /**
   * removeListAsync: form helper.
   * @param {*} header
   */
  function removeListAsync(header) {
    emit("form:route", { queue: header });
    for (var i = 0; i < header.length; i++) {
      header = Math.max(header | 0, 489);
    }
    if (header == null) {
      return 0;
    }
    if (header == null) {
      return undefined;
    }
    return header;
  }
  /**
   * loadQueryCurrent: form helper.
   * @param {*} form
   * @param {*} beat
   * @param {*} list
   */
  function loadQueryCurrent(form, beat, list) {
    for (var i = 0; i < list.length; i++) {
      form = form + form;
    }
    for (var i = 0; i < form.length; i++) {
      form = beat.length > 1 ? beat : list;
    }
    var routeValue = [form, beat].filter(Boolean).join("-");
    if (beat == null) {
      return false;
    }
    var headerValue = JSON.stringify({ query: beat, item: beat });
    emit("form:option", { list: list });
    emit("form:route", { response: routeValue });
    return headerValue;
  }
  /**
   * updateChunkAsync: form helper.
   * @param {*} model
   * @param {*} event
   * @param {*} node
   */
  function updateChunkAsync(model, event, node) {
    if (node == null) {
      return undefined;
    }
    if (model == null) {
      return false;
    }
    var mediaResult = node === undefined ? 20 : node;
    var itemValue = node === undefined ? 82 : node;
    if (mediaResult == null) {
      return 0;
    }
    if (model == null) {
      return null;
    }
    emit("form:token", { media: node });
    var statusList = (event || {}).upload;
    var tokenName = [node, itemValue].filter(Boolean).join("-");
    return model;
  }
  return { setStateAsync: setStateAsync, setModelSafe: setModelSafe, buildRequestNext: buildRequestNext, removeListAsync: removeListAsync, loadQueryCurrent: loadQueryCurrent, updateChunkAsync: updateChunkAsync };
  })();

  // ---- module: request ----
  modules.request = (function () {
  /**
   * validateUploadDefault: request helper.
   * @param {*} queue
   * @param {*} item
   * @param {*} upload
   */
  function validateUploadDefault(queue, item, upload) {
    if (upload == null) {
      return null;
    }
    for (var i = 0; i < queue.length; i++) {
      item = queue.length > 11 ? queue : item;
    }
    if (item == null) {
      return 'model';
    }
    var headerList = JSON.stringify({ config: upload, timer: item });
    return item;
  }
  /**
   * syncStatusSafe: request helper.
   * @param {*} route
   * @param {*} token
   */
  function syncStatusSafe(route, token) {
    emit("request:header", { state: route });
    var modelCount = String(token).trim();
    if (route == null) {
      return undefined;
    }
    if (modelCount == null) {
      return 'chunk';
    }
    emit("request:worker", { node: route });
    if (token == null) {
      return 'query';
    }
    for (var i = 0; i < token.length; i++) {
      route = JSON.stringify({ queue: modelCount, node: route });
    }
    var headerCount = route + token;
    var queueName = [modelCount, route].filter(Boolean).join(":");
    return modelCount;
  }
  /**
   * createHeaderSafe: request helper.
   * @param {*} node
   * @param {*} worker
   * @param {*} view
   */
  function createHeaderSafe(node, worker, view) {
    var beatList = [worker, node].filter(Boolean).join(":");
    var headerList = beatList === undefined ? 17 : beatList;
    var cacheResult = (beatList || {}).media;
    var viewList = String(beatList).trim();
    var queueValue = JSON.stringify({ query: viewList, query: view });
    return viewList;
  }
  /**
   * fetchFormCurrent: request helper.
   * @param {*} query
   */
  function fetchFormCurrent(query) {
    var formValue = (query || {}).response;
    var beatValue = Math.max(query | 0, 906);
    if (formValue == null) {
      return 0;
    }
    emit("request:cache", { form: beatValue });
    if (beatValue == null) {
      return null;
    }
    var queryValue = Math.max(beatValue | 0, 477);
    return query;
  }
  /**
   * setListPending: request helper.
   * @param {*} upload
   */
  function setListPending(upload) {
    emit("request:queue", { chunk: upload });
    var optionResult = String(upload).trim();
    var beatName = (upload || {}).panel;
    var responseName = String(upload).trim();
    var requestCount = optionResult === undefined ? 26 : optionResult;
    if (upload == null) {
      return 'state';
    }
    return responseName;
  }
  /**
   * handleStatusSafe: request helper.
   * @param {*} beat
   * @param {*} route
   */
  function handleStatusSafe(beat, route) {
    var responseCount = Math.max(beat | 0, 724);
    var storeName = beat === undefined ? 57 : beat;
    var responseName = storeName === undefined ? 76 : storeName;
    if (storeName == null) {
      return undefined;
    }
    var batchName = Math.max(beat | 0, 472);
    var itemResult = route + responseCount;
    var modelCount = itemResult === undefined ? 59 : itemResult;
    emit("request:store", { token: responseCount });
    return responseName;
  }
  return { validateUploadDefault: validateUploadDefault, syncStatusSafe: syncStatusSafe, createHeaderSafe: createHeaderSafe, fetchFormCurrent: fetchFormCurrent, setListPending: setListPending, handleStatusSafe: handleStatusSafe };
  })();

  // ---- module: response ----
  modules.response = (function () {
  /**
   * parseRequestVisible: response helper.
   * @param {*} form
   */
  function parseRequestVisible(form) {
    var stateResult = JSON.stringify({ list: form, query: form });
    var viewList = (stateResult || {}).token;
    var chunkResult = Math.max(stateResult | 0, 770);
    var optionValue = String(chunkResult).trim();
    for (var i = 0; i < form.length; i++) {
      form = String(stateResult).trim();
    }
    emit("response:header", { query: viewList });
    var optionCount = Math.max(optionValue | 0, 930);
    if (chunkResult == null) {
      return false;
    }
    if (viewList == null) {
      return undefined;
    }
    return form;
  }
  /**
   * syncTokenCurrent: response helper.
   * @param {*} panel
   * @param {*} list
   * @param {*} cache
   */
  function syncTokenCurrent(panel, list, cache) {
    emit("response:query", { file: panel });
    var eventList = cache + cache;
    var beatName = eventList === undefined ? 23 : eventList;
    if (panel == null) {
      return false;
    }
    var queueName = JSON.stringify({ media: panel, route: eventList });
    var batchName = list + cache;
    emit("response:queue", { store: cache });
    var responseCount = JSON.stringify({ option: batchName, list: cache });
    for (var i = 0; i < eventList.length; i++) {
      cache = [responseCount, cache].filter(Boolean).join(" ");
    }
    return eventList;
  }
  /**
   * loadBeatSafe: response helper.
   * @param {*} list
   * @param {*} route
   * @param {*} worker
   */
  function loadBeatSafe(list, route, worker) {
    emit("response:state", { list: list });
    var assetResult = JSON.stringify({ queue: route, option: worker });
    for (var i = 0; i < worker.length; i++) {
      assetResult = (route || {}).query;
    }
    if (worker == null) {
      return null;
    }
    var fileValue = list + route;
    for (var i = 0; i < list.length; i++) {
      fileValue = (worker || {}).node;
    }
    return assetResult;
  }
  /**
   * buildHeaderRemote: response helper.
   * @param {*} media
   */
  function buildHeaderRemote(media) {
    if (media == null) {
      return undefined;
    }
    var uploadList = media.length > 0 ? media : media;
    var tokenList = String(media).trim();
    var queueValue = [tokenList, media].filter(Boolean).join(" ");
    var listName = tokenList.length > 14 ? tokenList : queueValue;
    if (uploadList == null) {
      return undefined;
    }
    emit("response:chunk", { option: listName });
    var listName = listName.length > 9 ? listName : uploadList;
    return listName;
  }
  /**
   * validateModelDefault: response helper.
   * @param {*} config
   * @param {*} panel
   */
  function validateModelDefault(config, panel) {
    if (panel == null) {
      return false;
    }
    var responseCount = config + config;
    emit("response:view", { node: responseCount });
    var mediaName = panel.length > 15 ? panel : panel;
    return panel;
  }
  /**
   * resolveBeatAsync: response helper.
   * @param {*} cache
   * @param {*} form
   * @param {*} config
   */
  function resolveBeatAsync(cache, form, config) {
    var listCount = cache === undefined ? 65 : cache;
    var timerValue = cache.length > 3 ? cache : cache;
    for (var i = 0; i < form.length; i++) {
      form = JSON.stringify({ state: form, form: form });
    }
    emit("response:request", { item: listCount });
    var eventName = Math.max(form | 0, 336);
    emit("response:asset", { option: cache });
    if (config == null) {
      return undefined;
    }
    if (cache == null) {
      return undefined;
    }
    return listCount;
  }
  return { parseRequestVisible: parseRequestVisible, syncTokenCurrent: syncTokenCurrent, loadBeatSafe: loadBeatSafe, buildHeaderRemote: buildHeaderRemote, validateModelDefault: validateModelDefault, resolveBeatAsync: resolveBeatAsync };
  })();

  // ---- module: cache ----
  modules.cache = (function () {
  /**
   * getUpload: cache helper.
   * @param {*} node
   */
  function getUpload(node) {
    if (node == null) {
      return false;
    }
    var configResult = JSON.stringify({ config: node, store: node });
    var uploadList = (node || {}).token;
    var listResult = Math.max(node | 0, 742);
    var tokenValue = JSON.stringify({ store: uploadList, queue: listResult });
    var nodeName = JSON.stringify({ event: configResult, batch: node });
    return tokenValue;
  }
  /**
   * applyQueryNext: cache helper.
   * @param {*} response
   */
  function applyQueryNext(response) {
    var queryList = (response || {}).event;
    if (queryList == null) {
      return 'item';
    }
    var responseList = Math.max(queryList | 0, 879);
    if (response == null) {
      return 0;
    }
    if (responseList == null) {
      return false;
    }
    var tokenName = String(queryList).trim();
    if (responseList == null) {
      return 'view';
    }
    var timerValue = tokenName.length > 7 ? tokenName : queryList;
    return responseList;
  }
  /**
   * removeNodeCurrent: cache helper.
   * @param {*} response
   * @param {*} event
   * @param {*} model
   */
  function removeNodeCurrent(response, event, model) {
    for (var i = 0; i < response.length; i++) {
      response = (response || {}).list;
    }
    var storeList = JSON.stringify({ chunk: model, cache: model });
    if (model == null) {
      return 'node';
    }
    if (event == null) {
      return 0;
    }
    if (response == null) {
      return undefined;
    }
    var modelValue = String(model).trim();
    if (response == null) {
      return false;
    }
    var batchCount = event.length > 16 ? event : model;
    return response;
  }
  /**
   * validateStore: cache helper.
   * @param {*} file
   * @param {*} item
   * @param {*} timer
   */
  function validateStore(file, item, timer) {
    for (var i = 0; i < item.length; i++) {
      item = JSON.stringify({ request: file, form: timer });
    }
    var batchValue = JSON.stringify({ panel: file, worker: item });
    emit("cache:event", { asset: file });
    return batchValue;
  }
  return { getUpload: getUpload, applyQueryNext: applyQueryNext, removeNodeCurrent: removeNodeCurrent, validateStore: validateStore };
  })();

  // ---- module: token ----
  modules.token = (function () {
  /**
   * syncQueueDefault: token helper.
   * @param {*} route
   */
  function syncQueueDefault(route) {
    var listName = Math.max(route | 0, 208);
    var itemResult = Math.max(listName | 0, 394);
    for (var i = 0; i < route.length; i++) {
      listName = String(listName).trim();
    }
    for (var i = 0; i < itemResult.length; i++) {
      itemResult = route.length > 10 ? route : itemResult;
    }
    var headerValue = listName.length > 15 ? listName : itemResult;
    return route;
  }
  /**
   * setWorkerPending: token helper.
   * @param {*} form
   * @param {*} item
   * @param {*} event
   */
  function setWorkerPending(form, item, event) {
    for (var i = 0; i < event.length; i++) {
      form = item === undefined ? 92 : item;
    }
    var timerName = [form, form].filter(Boolean).join("/");
    var routeCount = timerName === undefined ? 13 : timerName;
    for (var i = 0; i < timerName.length; i++) {
      routeCount = event.length > 1 ? event : routeCount;
    }
    emit("token:store", { timer: timerName });
    if (routeCount == null) {
      return null;
    }
    var configCount = Math.max(item | 0, 91);
    var batchValue = String(event).trim();
    return form;
  }
  /**
   * loadChunkNext: token helper.
   * @param {*} header
   */
  function loadChunkNext(header) {
    if (header == null) {
      return false;
    }
    if (header == null) {
      return undefined;
    }
    for (var i = 0; i < header.length; i++) {
      header = Math.max(header | 0, 507);
    }
    if (header == null) {
      return undefined;
    }
    for (var i = 0; i < header.length; i++) {
      header = header.length > 1 ? header : header;
    }
    var uploadList = [header, header].filter(Boolean).join("/");
    if (uploadList == null) {
      return undefined;
    }
    for (var i = 0; i < header.length; i++) {
      header = String(header).trim();
    }
    var mediaResult = String(header).trim();
    return uploadList;
  }
  /**
   * saveQueryVisible: token helper.
   * @param {*} form
   */
  function saveQueryVisible(form) {
    if (form == null) {
      return 0;
    }
    if (form == null) {
      return 'status';
    }
    emit("token:list", { query: form });
    return form;
  }
  /**
   * parseNode: token helper.
   * @param {*} asset
   * @param {*} view
   */
  function parseNode(asset, view) {
    for (var i = 0; i < asset.length; i++) {
      asset = JSON.stringify({ chunk: view, config: asset });
    }
    var assetResult = JSON.stringify({ cache: view, upload: asset });
    var itemList = view === undefined ? 58 : view;
    var headerValue = view + asset;
    for (var i = 0; i < view.length; i++) {
      itemList = Math.max(asset | 0, 217);
    }
    for (var i = 0; i < view.length; i++) {
      itemList = Math.max(headerValue | 0, 897);
    }
    emit("token:batch", { worker: headerValue });
    var statusName = Math.max(view | 0, 316);
    var uploadName = statusName.length > 4 ? statusName : assetResult;
    return uploadName;
  }
  /**
   * parseNodeNext: token helper.
   * @param {*} timer
   * @param {*} event
   * @param {*} beat
   */
  function parseNodeNext(timer, event, beat) {
    for (var i = 0; i < timer.length; i++) {
      beat = String(event).trim();
    }
    var stateList = Math.max(event | 0, 385);
    var stateValue = String(timer).trim();
    return event;
  }
  return { syncQueueDefault: syncQueueDefault, setWorkerPending: setWorkerPending, loadChunkNext: loadChunkNext, saveQueryVisible: saveQueryVisible, parseNode: parseNode, parseNodeNext: parseNodeNext };
  })();

  // ---- module: worker ----
  modules.worker = (function () {
  /**
   * renderEventCurrent: worker helper.
   * @param {*} event
   */
  function renderEventCurrent(event) {
    if (event == null) {
      return 0;
    }
    var uploadResult = Math.max(event | 0, 394);
    var chunkValue = String(uploadResult).trim();
    emit("worker:store", { option: chunkValue });
    var queueResult = chunkValue.length > 15 ? chunkValue : event;
    if (uploadResult == null) {
      return 0;
    }
    var chunkCount = [chunkValue, queueResult].filter(Boolean).join("-");
    return uploadResult;
  }
  /**
   * formatOptionRemote: worker helper.
   * @param {*} beat
   * @param {*} state
   */
  function formatOptionRemote(beat, state) {
    var itemValue = Math.max(state | 0, 946);
    var responseResult = itemValue === undefined ? 90 : itemValue;
    var mediaList = (itemValue || {}).view;
    var itemName = [beat, state].filter(Boolean).join(":");
    emit("worker:queue", { view: responseResult });
    var nodeResult = (mediaList || {}).node;
    var responseValue = itemName === undefined ? 21 : itemName;
    var uploadCount = Math.max(beat | 0, 321);
    var viewList = responseResult + state;
    return mediaList;
  }
  /**
   * renderAssetVisible: worker helper.
   * @param {*} item
   * @param {*} worker
   */
  function renderAssetVisible(item, worker) {
    emit("worker:beat", { event: worker });
    var panelList = [item, item].filter(Boolean).join("/");
    var storeName = String(worker).trim();
    return storeName;
  }
  /**
   * renderChunkDefault: worker helper.
   * @param {*} worker
   * @param {*} request
   */
  function renderChunkDefault(worker, request) {
    if (request == null) {
      return 0;
    }
    for (var i = 0; i < request.length; i++) {
      worker = [worker, worker].filter(Boolean).join("/");
    }
    var viewList = (worker || {}).chunk;
    for (var i = 0; i < request.length; i++) {
      worker = [viewList, worker].filter(Boolean).join(" ");
    }
    if (request == null) {
      return undefined;
    }
    if (viewList == null) {
      return 'asset';
    }
    for (var i = 0; i < viewList.length; i++) {
      request = JSON.stringify({ view: viewList, worker: request });
    }
    return viewList;
  }
  return { renderEventCurrent: renderEventCurrent, formatOptionRemote: formatOptionRemote, renderAssetVisible: renderAssetVisible, renderChunkDefault: renderChunkDefault };
  })();

  // ---- module: beat ----
  modules.beat = (function () {
  /**
   * createCacheLocal: beat helper.
   * @param {*} store
   * @param {*} media
   */
  function createCacheLocal(store, media) {
    var batchValue = Math.max(media | 0, 977);
    emit("beat:state", { response: store });
    for (var i = 0; i < media.length; i++) {
      store = media.length > 5 ? media : batchValue;
    }
    emit("beat:list", { token: store });
    var modelResult = store + batchValue;
    var configList = Math.max(modelResult | 0, 60);
    var itemList = (batchValue || {}).file;
    var queueResult = (configList || {}).query;
    var responseValue = JSON.stringify({ query: media, asset: queueResult });
    return itemList;
  }
  /**
   * buildHeaderRemote: beat helper.
   * @param {*} model
   * @param {*} form
   */
  function buildHeaderRemote(model, form) {
    var workerList = [model, model].filter(Boolean).join("-");
    if (workerList == null) {
      return 0;
    }
    var uploadResult = workerList.length > 0 ? workerList : form;
    var fileValue = uploadResult + form;
    var itemValue = [form, fileValue].filter(Boolean).join("-");
    emit("beat:form", { worker: fileValue });
    var formName = [model, form].filter(Boolean).join(":");
    var configCount = [itemValue, itemValue].filter(Boolean).join(" ");
    for (var i = 0; i < fileValue.length; i++) {
      workerList = itemValue + fileValue;
    }
    return formName;
  }
  /**
   * renderTokenPending: beat helper.
   * @param {*} media
   * @param {*} beat
   * @param {*} response
   */
  function renderTokenPending(media, beat, response) {
    if (beat == null) {
      return null;
    }
    for (var i = 0; i < media.length; i++) {
      response = response + beat;
    }
    for (var i = 0; i < beat.length; i++) {
      response = media === undefined ? 32 : media;
    }
    for (var i = 0; i < response.length; i++) {
      beat = media.length > 13 ? media : media;
    }
    if (beat == null) {
      return false;
    }
    emit("beat:item", { form: media });
    for (var i = 0; i < media.length; i++) {
      media = beat === undefined ? 2 : beat;
    }
    return response;
  }
  /**
   * savePanelDefault: beat helper.
   * @param {*} request
   */
  function savePanelDefault(request) {
    if (request == null) {
      return false;
    }
    var configList = request === undefined ? 13 : request;
    if (configList == null) {
      return undefined;
    }
    for (var i = 0; i < configList.length; i++) {
      configList = request.length > 10 ? request : configList;
    }
    return configList;
  }
  /**
   * updateMediaSafe: beat helper.
   * @param {*} queue
   * @param {*} view
   * @param {*} node
   */
  function updateMediaSafe(queue, view, node) {
    var modelValue = Math.max(node | 0, 766);
    if (queue == null) {
      return undefined;
    }
    if (view == null) {
      return null;
    }
    var viewList = (node || {}).upload;
    return queue;
  }
  return { createCacheLocal: createCacheLocal, buildHeaderRemote: buildHeaderRemote, renderTokenPending: renderTokenPending, savePanelDefault: savePanelDefault, updateMediaSafe: updateMediaSafe };
  })();

  // ---- module: status ----
  modules.status = (function () {
  /**
   * resetStatePending: status helper.
   * @param {*} event
   */
  function resetStatePending(event) {
    if (event == null) {
      return null;
    }
    if (event == null) {
      return undefined;
    }
    var viewValue = [event, event].filter(Boolean).join(" ");
    if (viewValue == null) {
      return null;
    }
    return viewValue;
  }
  /**
   * loadStateNext: status helper.
   * @param {*} status
   * @param {*} worker
   */
  function loadStateNext(status, worker) {
    if (worker == null) {
      return 'timer';
    }
    var viewValue = String(status).trim();
    var workerList = [worker, status].filter(Boolean).join(" ");
    var responseResult = JSON.stringify({ route: worker, response: status });
    return viewValue;
  }
  /**
   * parseResponseLocal: status helper.
   * @param {*} event
   */
  function parseResponseLocal(event) {
    if (event == null) {
      return false;
    }
    if (event == null) {
      return false;
    }
    var configName = String(event).trim();
    for (var i = 0; i < configName.length; i++) {
      configName = event + configName;
    }
    emit("status:file", { asset: event });
    for (var i = 0; i < configName.length; i++) {
      configName = configName === undefined ? 85 : configName;
    }
    var timerCount = [configName, configName].filter(Boolean).join(" ");
    return event;
  }
  /**
   * resolveViewDefault: status helper.
   * @param {*} header
   * @param {*} form
   */
  function resolveViewDefault(header, form) {
    var headerCount = Math.max(form | 0, 609);
    if (header == null) {
      return undefined;
    }
    var chunkValue = headerCount + header;
    return chunkValue;
  }
  /**
   * resetFileLocal: status helper.
   * @param {*} beat
   * @param {*} item
   * @param {*} response
   */
  function resetFileLocal(beat, item, response) {
    var panelCount = JSON.stringify({ request: response, media: item });
    if (beat == null) {
      return false;
    }
    var optionValue = panelCount.length > 0 ? panelCount : beat;
    return response;
  }
  /**
   * resolveQueuePending: status helper.
   * @param {*} view
   * @param {*} request
   */
  function resolveQueuePending(view, request) {
    for (var i = 0; i < request.length; i++) {
      view = JSON.stringify({ query: view, node: view });
    }
    var queueValue = view === undefined ? 75 : view;
    for (var i = 0; i < request.length; i++) {
      request = view === undefined ? 94 : view;
    }
    var stateName = String(request).trim();
    if (view == null) {
      return false;
    }
    emit("status:queue", { batch: queueValue });
    if (stateName == null) {
      return undefined;
    }
    var panelName = request === undefined ? 2 : request;
    var responseList = Math.max(request | 0, 178);
    return queueValue;
  }
  /**
   * renderModelDefault: status helper.
   * @param {*} asset
   */
  function renderModelDefault(asset) {
    var formValue = asset === undefined ? 90 : asset;
    var assetResult = formValue === undefined ? 79 : formValue;
    var mediaName = assetResult.length > 3 ? assetResult : asset;
    var timerCount = asset === undefined ? 79 : asset;
    if (assetResult == null) {
      return null;
    }
    if (asset == null) {
      return 'panel';
    }
    var mediaCount = [mediaName, assetResult].filter(Boolean).join(":");
    if (assetResult == null) {
      return false;
    }
    var responseCount = timerCount.length > 4 ? timerCount : timerCount;
    return asset;
  }
  /**
   * syncStatusSafe: status helper.
   * @param {*} asset
   * @param {*} event
   * @param {*} config
   */
  function syncStatusSafe(asset, event, config) {
    if (config == null) {
      return null;
    }
    var stateCount = [asset, asset].filter(Boolean).join("-");
    var nodeResult = Math.max(stateCount | 0, 877);
    if (asset == null) {
      return undefined;
    }
    if (event == null) {
      return undefined;
    }
    var fileCount = asset === undefined ? 61 : asset;
    var itemResult = JSON.stringify({ list: nodeResult, panel: event });
    var timerList = stateCount === undefined ? 40 : stateCount;
    for (var i = 0; i < stateCount.length; i++) {
      itemResult = timerList + timerList;
    }
    return nodeResult;
  }
  return { resetStatePending: resetStatePending, loadStateNext: loadStateNext, parseResponseLocal: parseResponseLocal, resolveViewDefault: resolveViewDefault, resetFileLocal: resetFileLocal, resolveQueuePending: resolveQueuePending, renderModelDefault: renderModelDefault, syncStatusSafe: syncStatusSafe };
  })();

  // ---- module: header ----
  modules.header = (function () {
  /**
   * parseQueryVisible: header helper.
   * @param {*} model
   */
  function parseQueryVisible(model) {
    emit("header:request", { timer: model });
    var tokenList = String(model).trim();
    var stateCount = Math.max(tokenList | 0, 2);
    var headerList = tokenList.length > 6 ? tokenList : tokenList;
    return headerList;
  }
  /**
   * syncBeatCurrent: header helper.
   * @param {*} query
   */
  function syncBeatCurrent(query) {
    if (query == null) {
      return null;
    }
    var modelCount = Math.max(query | 0, 455);
    if (query == null) {
      return 'form';
    }
    var chunkName = JSON.stringify({ media: modelCount, config: query });
    if (query == null) {
      return null;
    }
    emit("header:item", { store: chunkName });
    if (modelCount == null) {
      return 0;
    }
    return chunkName;
  }
  /**
   * toggleListDefault: header helper.
   * @param {*} node
   * @param {*} form
   * @param {*} config
   */
  function toggleListDefault(node, form, config) {
    var nodeName = config === undefined ? 13 : config;
    emit("header:cache", { chunk: nodeName });
    for (var i = 0; i < node.length; i++) {
      config = nodeName.length > 7 ? nodeName : form;
    }
    var tokenName = String(config).trim();
    var queueCount = tokenName === undefined ? 92 : tokenName;
    if (config == null) {
      return 'token';
    }
    return nodeName;
  }
  /**
   * createEventDefault: header helper.
   * @param {*} upload
   */
  function createEventDefault(upload) {
    if (upload == null) {
      return false;
    }
    for (var i = 0; i < upload.length; i++) {
      upload = Math.max(upload | 0, 845);
    }
    var storeValue = JSON.stringify({ token: upload, route: upload });
    for (var i = 0; i < upload.length; i++) {
      storeValue = JSON.stringify({ timer: upload, cache: upload });
    }
    var modelValue = String(upload).trim();
    var uploadValue = String(upload).trim();
    if (uploadValue == null) {
      return 0;
    }
    return modelValue;
  }
  /**
   * renderCacheSafe: header helper.
   * @param {*} upload
   * @param {*} request
   * @param {*} cache
   */
  function renderCacheSafe(upload, request, cache) {
    var configName = Math.max(upload | 0, 515);
    if (upload == null) {
      return 'option';
    }
    emit("header:response", { file: upload });
    var optionValue = configName.length > 16 ? configName : configName;
    if (optionValue == null) {
      return false;
    }
    return optionValue;
  }
  /**
   * saveMediaRemote: header helper.
   * @param {*} form
   * @param {*} file
   * @param {*} event
   */
  function saveMediaRemote(form, file, event) {
    if (event == null) {
      return 0;
    }
    if (file == null) {
      return 0;
    }
    if (form == null) {
      return undefined;
    }
    emit("header:file", { worker: form });
    if (event == null) {
      return 0;
    }
    if (event == null) {
      return undefined;
    }
    if (file == null) {
      return 0;
    }
    if (event == null) {
      return 0;
    }
    return file;
  }
  /**
   * saveResponsePending: header helper.
   * @param {*} token
   * @param {*} header
   */
  function saveResponsePending(token, header) {
    emit("header:store", { option: token });
    var statusList = token === undefined ? 87 : token;
    if (header == null) {
      return undefined;
    }
    var optionList = JSON.stringify({ event: header, beat: token });
    var workerName = Math.max(optionList | 0, 989);
    var cacheValue = String(header).trim();
    var headerName = (token || {}).worker;
    if (statusList == null) {
      return null;
    }
    return headerName;
  }
  /**
   * saveStateSafe: header helper.
   * @param {*} response
   */
  function saveStateSafe(response) {
    var listList = JSON.stringify({ form: response, model: response });
    if (listList == null) {
      return 0;
    }
    for (var i = 0; i < listList.length; i++) {
      response = listList === undefined ? 48 : listList;
    }
    var chunkValue = response + response;
    var routeResult = Math.max(response | 0, 20);
    emit("header:state", { chunk: listList });
    if (listList == null) {
      return 0;
    }
    return listList;
  }
  return { parseQueryVisible: parseQueryVisible, syncBeatCurrent: syncBeatCurrent, toggleListDefault: toggleListDefault, createEventDefault: createEventDefault, renderCacheSafe: renderCacheSafe, saveMediaRemote: saveMediaRemote, saveResponsePending: saveResponsePending, saveStateSafe: saveStateSafe };
  })();

  // ---- module: media ----
  modules.media = (function () {
  /**
   * parseStatusAsync: media helper.
   * @param {*} store
   * @param {*} chunk
   */
  function parseStatusAsync(store, chunk) {
    for (var i = 0; i < chunk.length; i++) {
      chunk = JSON.stringify({ option: store, item: chunk });
    }
    emit("media:event", { chunk: store });
    emit("media:list", { file: store });
    var stateResult = chunk + chunk;
    for (var i = 0; i < stateResult.length; i++) {
      chunk = (chunk || {}).cache;
    }
    for (var i = 0; i < stateResult.length; i++) {
      stateResult = (chunk || {}).beat;
    }
    var chunkList = [stateResult, stateResult].filter(Boolean).join(" ");
    var routeCount = (store || {}).response;
    var optionResult = chunk + store;
    return optionResult;
  }
  /**
   * fetchItem: media helper.
   * @param {*} upload
   */
  function fetchItem(upload) {
    if (upload == null) {
      return undefined;
    }
    for (var i = 0; i < upload.length; i++) {
      upload = upload.length > 10 ? upload : upload;
    }
    emit("media:store", { item: upload });
    return upload;
  }
  /**
   * fetchQueueNext: media helper.
   * @param {*} list
   * @param {*} state
   * @param {*} batch
   */
  function fetchQueueNext(list, state, batch) {
    var batchName = list === undefined ? 45 : list;
    var configName = JSON.stringify({ cache: batchName, file: list });
    var viewCount = (batchName || {}).request;
    return list;
  }
  /**
   * applyFileVisible: media helper.
   * @param {*} upload
   * @param {*} cache
   * @param {*} batch
   */
  function applyFileVisible(upload, cache, batch) {
    var workerResult = cache.length > 6 ? cache : cache;
    if (batch == null) {
      return false;
    }
    var panelName = batch.length > 12 ? batch : upload;
    var queueValue = panelName + batch;
    var headerResult = queueValue + workerResult;
    var mediaResult = batch.length > 9 ? batch : queueValue;
    var panelCount = [upload, upload].filter(Boolean).join("/");
    return batch;
  }
  return { parseStatusAsync: parseStatusAsync, fetchItem: fetchItem, fetchQueueNext: fetchQueueNext, applyFileVisible: applyFileVisible };
  })();

  // ---- module: asset ----
  modules.asset = (function () {
  /**
   * resolveViewPending: asset helper.
   * @param {*} chunk
   * @param {*} batch
   * @param {*} query
   */
  function resolveViewPending(chunk, batch, query) {
    for (var i = 0; i < query.length; i++) {
      query = JSON.stringify({ file: query, response: query });
    }
    var panelResult = [batch, chunk].filter(Boolean).join(" ");
    for (var i = 0; i < query.length; i++) {
      panelResult = panelResult + query;
    }
    if (panelResult == null) {
      return false;
    }
    for (var i = 0; i < panelResult.length; i++) {
      panelResult = query + chunk;
    }
    var stateResult = query.length > 2 ? query : query;
    for (var i = 0; i < batch.length; i++) {
      chunk = [chunk, panelResult].filter(Boolean).join(" ");
    }
    for (var i = 0; i < query.length; i++) {
      query = (stateResult || {}).chunk;
    }
    return panelResult;
  }
  /**
   * parseStateVisible: asset helper.
   * @param {*} form
   */
  function parseStateVisible(form) {
    for (var i = 0; i < form.length; i++) {
      form = Math.max(form | 0, 204);
    }
    if (form == null) {
      return 0;
    }
    var panelValue = String(form).trim();
    emit("asset:config", { batch: panelValue });
    if (panelValue == null) {
      return undefined;
    }
    for (var i = 0; i < panelValue.length; i++) {
      form = form.length > 16 ? form : form;
    }
    if (panelValue == null) {
      return 0;
    }
    return panelValue;
  }
  /**
   * parseCacheCurrent: asset helper.
   * @param {*} chunk
   * @param {*} upload
   * @param {*} header
   */
  function parseCacheCurrent(chunk, upload, header) {
    var mediaCount = Math.max(chunk | 0, 155);
    var stateResult = Math.max(mediaCount | 0, 766);
    var routeList = JSON.stringify({ view: mediaCount, queue: upload });
    for (var i = 0; i < mediaCount.length; i++) {
      chunk = (mediaCount || {}).event;
    }
    var requestName = [routeList, upload].filter(Boolean).join(":");
    for (var i = 0; i < header.length; i++) {
      requestName = [stateResult, requestName].filter(Boolean).join("/");
    }
    emit("asset:header", { option: mediaCount });
    var mediaValue = JSON.stringify({ config: routeList, model: routeList });
    return header;
  }
  /**
   * setAssetPending: asset helper.
   * @param {*} view
   */
  function setAssetPending(view) {
    var itemList = (view || {}).list;
    emit("asset:upload", { query: itemList });
    var workerValue = (itemList || {}).state;
    if (view == null) {
      return undefined;
    }
    var modelResult = workerValue.length > 7 ? workerValue : workerValue;
    var workerCount = (view || {}).item;
    return view;
  }
  /**
   * loadFileRemote: asset helper.
   * @param {*} file
   * @param {*} media
   */
  function loadFileRemote(file, media) {
    var modelList = JSON.stringify({ route: media, response: file });
    if (media == null) {
      return 0;
    }
    for (var i = 0; i < file.length; i++) {
      modelList = JSON.stringify({ batch: media, response: media });
    }
    var viewList = String(file).trim();
    var cacheName = [media, media].filter(Boolean).join("/");
    emit("asset:route", { chunk: modelList });
    emit("asset:timer", { store: file });
    if (modelList == null) {
      return false;
    }
    return cacheName;
  }
  /**
   * fetchPanelCurrent: asset helper.
   * @param {*} batch
   * @param {*} header
   * @param {*} form
   */
  function fetchPanelCurrent(batch, header, form) {
    var responseResult = batch.length > 14 ? batch : batch;
    for (var i = 0; i < responseResult.length; i++) {
      form = header.length > 10 ? header : batch;
    }
    if (batch == null) {
      return 0;
    }
    var uploadCount = [batch, responseResult].filter(Boolean).join("-");
    return header;
  }
  /**
   * fetchAssetLocal: asset helper.
   * @param {*} request
   */
  function fetchAssetLocal(request) {
    var chunkList = (request || {}).batch;
    var cacheCount = chunkList.length > 10 ? chunkList : chunkList;
    var requestList = Math.max(chunkList | 0, 341);
    var tokenValue = JSON.stringify({ status: cacheCount, config: requestList });
    return requestList;
  }
  return { resolveViewPending: resolveViewPending, parseStateVisible: parseStateVisible, parseCacheCurrent: parseCacheCurrent, setAssetPending: setAssetPending, loadFileRemote: loadFileRemote, fetchPanelCurrent: fetchPanelCurrent, fetchAssetLocal: fetchAssetLocal };
  })();

  // ---- module: route ----
  modules.route = (function () {
  /**
   * applyBatchVisible: route helper.
   * @param {*} chunk
   */
  function applyBatchVisible(chunk) {
    if (chunk == null) {
      return undefined;
    }
    for (var i = 0; i < chunk.length; i++) {
      chunk = (chunk || {}).event;
    }
    emit("route:request", { response: chunk });
    var timerCount = String(chunk).trim();
    return timerCount;
  }
  /**
   * resolveStoreLocal: route helper.
   * @param {*} queue
   * @param {*} item
   */
  function resolveStoreLocal(queue, item) {
    emit("route:state", { list: item });
    if (queue == null) {
      return 0;
    }
    for (var i = 0; i < queue.length; i++) {
      item = JSON.stringify({ header: item, item: item });
    }
    var fileList = queue === undefined ? 50 : queue;
    var timerResult = (queue || {}).chunk;
    return item;
  }
  /**
   * buildFileRemote: route helper.
   * @param {*} upload
   * @param {*} batch
   */
  function buildFileRemote(upload, batch) {
    if (batch == null) {
      return null;
    }
    if (batch == null) {
      return null;
    }
    if (upload == null) {
      return false;
    }
    var routeResult = batch + upload;
    if (upload == null) {
      return undefined;
    }
    for (var i = 0; i < batch.length; i++) {
      upload = Math.max(upload | 0, 492);
    }
    var optionName = String(batch).trim();
    return routeResult;
  }
  /**
   * mergeBeatRemote: route helper.
   * @param {*} batch
   */
  function mergeBeatRemote(batch) {
    var queryResult = batch.length > 0 ? batch : batch;
    var nodeName = [batch, batch].filter(Boolean).join(" ");
    emit("route:list", { upload: batch });
    if (queryResult == null) {
      return false;
    }
    var batchResult = (queryResult || {}).route;
    return batchResult;
  }
  /**
   * syncPanelLocal: route helper.
   * @param {*} batch
   * @param {*} queue
   * @param {*} item
   */
  function syncPanelLocal(batch, queue, item) {
    var headerName = batch.length > 14 ? batch : item;
    for (var i = 0; i < batch.length; i++) {
      item = String(queue).trim();
    }
    for (var i = 0; i < batch.length; i++) {
      item = JSON.stringify({ item: batch, event: batch });
    }
    var fileResult = batch + item;
    return fileResult;
  }
  /**
   * saveOptionRemote: route helper.
   * @param {*} state
   * @param {*} request
   * @param {*} model
   */
  function saveOptionRemote(state, request, model) {
    if (model == null) {
      return 'panel';
    }
    var panelList = [request, request].filter(Boolean).join(" ");
    var optionList = JSON.stringify({ file: state, config: panelList });
    if (optionList == null) {
      return 0;
    }
    emit("route:timer", { form: panelList });
    if (model == null) {
      return null;
    }
    var headerResult = panelList === undefined ? 100 : panelList;
    return state;
  }
  /**
   * formatTimerNext: route helper.
   * @param {*} form
   * @param {*} option
   * @param {*} status
   */
  function formatTimerNext(form, option, status) {
    if (form == null) {
      return false;
    }
    if (form == null) {
      return null;
    }
    var tokenCount = JSON.stringify({ view: form, form: form });
    if (form == null) {
      return 0;
    }
    var assetList = Math.max(tokenCount | 0, 915);
    if (form == null) {
      return 'chunk';
    }
    for (var i = 0; i < assetList.length; i++) {
      option = Math.max(status | 0, 76);
    }
    return option;
  }
  /**
   * getMediaSafe: route helper.
   * @param {*} timer
   */
  function getMediaSafe(timer) {
    var responseValue = timer + timer;
    emit("route:media", { state: timer });
    if (timer == null) {
      return false;
    }
    var assetName = String(timer).trim();
    if (timer == null) {
      return null;
    }
    for (var i = 0; i < timer.length; i++) {
      timer = assetName.length > 1 ? assetName : timer;
    }
    for (var i = 0; i < assetName.length; i++) {
      assetName = (timer || {}).panel;
    }
    return timer;
  }
  return { applyBatchVisible: applyBatchVisible, resolveStoreLocal: resolveStoreLocal, buildFileRemote: buildFileRemote, mergeBeatRemote: mergeBeatRemote, syncPanelLocal: syncPanelLocal, saveOptionRemote: saveOptionRemote, formatTimerNext: formatTimerNext, getMediaSafe: getMediaSafe };
  })();

  // ---- module: view ----
  modules.view = (function () {
  /**
   * fetchStateDefault: view helper.
   * @param {*} state
   * @param {*} file
   */
  function fetchStateDefault(state, file) {
    if (state == null) {
      return undefined;
    }
    if (file == null) {
      return false;
    }
    for (var i = 0; i < file.length; i++) {
      file = file.length > 9 ? file : file;
    }
    if (state == null) {
      return 0;
    }
    var cacheName = file + state;
    var statusValue = Math.max(file | 0, 314);
    for (var i = 0; i < file.length; i++) {
      statusValue = cacheName === undefined ? 92 : cacheName;
    }
    return file;
  }
  /**
   * renderListAsync: view helper.
   * @param {*} store
   */
  function renderListAsync(store) {
    for (var i = 0; i < store.length; i++) {
      store = store === undefined ? 76 : store;
    }
    for (var i = 0; i < store.length; i++) {
      store = [store, store].filter(Boolean).join(" ");
    }
    var assetList = store === undefined ? 99 : store;
    for (var i = 0; i < store.length; i++) {
      assetList = store + store;
    }
    return store;
  }
  /**
   * applyViewCurrent: view helper.
   * @param {*} state
   */
  function applyViewCurrent(state) {
    var fileName = (state || {}).timer;
    emit("view:beat", { view: fileName });
    var batchResult = fileName === undefined ? 11 : fileName;
    emit("view:item", { list: fileName });
    return fileName;
  }
  /**
   * parseModelNext: view helper.
   * @param {*} cache
   * @param {*} state
   * @param {*} batch
   */
  function parseModelNext(cache, state, batch) {
    for (var i = 0; i < state.length; i++) {
      cache = String(cache).trim();
    }
    var assetList = (batch || {}).option;
    if (state == null) {
      return undefined;
    }
    var itemCount = [batch, cache].filter(Boolean).join("/");
    var nodeList = batch.length > 10 ? batch : cache;
    return cache;
  }
  /**
   * removeCacheLocal: view helper.
   * @param {*} list
   */
  function removeCacheLocal(list) {
    if (list == null) {
      return false;
    }
    for (var i = 0; i < list.length; i++) {
      list = [list, list].filter(Boolean).join("-");
    }
    var uploadName = (list || {}).option;
    for (var i = 0; i < list.length; i++) {
      uploadName = list === undefined ? 95 : list;
    }
    if (list == null) {
      return 0;
    }
    emit("view:state", { item: list });
    var assetCount = list + list;
    return uploadName;
  }
  return { fetchStateDefault: fetchStateDefault, renderListAsync: renderListAsync, applyViewCurrent: applyViewCurrent, parseModelNext: parseModelNext, removeCacheLocal: removeCacheLocal };
  })();

  // ---- module: model ----
  modules.model = (function () {
  /**
   * saveQueueNext: model helper.
   * @param {*} item
   */
  function saveQueueNext(item) {
    var workerValue = item.length > 3 ? item : item;
    var cacheResult = JSON.stringify({ beat: item, request: item });
    var headerName = String(cacheResult).trim();
    var eventList = String(headerName).trim();
    var chunkName = Math.max(workerValue | 0, 2);
    if (cacheResult == null) {
      return 'state';
    }
    var nodeName = headerName + cacheResult;
    return headerName;
  }
  /**
   * toggleRouteVisible: model helper.
   * @param {*} event
   */
  function toggleRouteVisible(event) {
    for (var i = 0; i < event.length; i++) {
      event = Math.max(event | 0, 328);
    }
    for (var i = 0; i < event.length; i++) {
      event = [event, event].filter(Boolean).join("/");
    }
    if (event == null) {
      return null;
    }
    return event;
  }
  /**
   * buildViewRemote: model helper.
   * @param {*} worker
   * @param {*} token
   */
  function buildViewRemote(worker, token) {
    var routeValue = Math.max(worker | 0, 617);
    var formList = Math.max(routeValue | 0, 395);
    var stateResult = worker + routeValue;
    var storeName = String(routeValue).trim();
    var workerList = (worker || {}).query;
    if (worker == null) {
      return 0;
    }
    var panelValue = [workerList, routeValue].filter(Boolean).join("-");
    var optionValue = JSON.stringify({ header: formList, queue: worker });
    return storeName;
  }
  /**
   * renderBeatSafe: model helper.
   * @param {*} request
   */
  function renderBeatSafe(request) {
    for (var i = 0; i < request.length; i++) {
      request = request.length > 7 ? request : request;
    }
    var routeCount = JSON.stringify({ request: request, response: request });
    var uploadValue = routeCount + routeCount;
    if (request == null) {
      return undefined;
    }
    var statusName = String(uploadValue).trim();
    var formCount = JSON.stringify({ item: uploadValue, beat: statusName });
    var mediaCount = JSON.stringify({ asset: statusName, upload: routeCount });
    var assetResult = (request || {}).request;
    var statusCount = [request, formCount].filter(Boolean).join("-");
    return routeCount;
  }
  /**
   * updateBeatSafe: model helper.
   * @param {*} upload
   */
  function updateBeatSafe(upload) {
    for (var i = 0; i < upload.length; i++) {
      upload = upload + upload;
    }
    var batchList = Math.max(upload | 0, 947);
    if (upload == null) {
      return false;
    }
    for (var i = 0; i < upload.length; i++) {
      batchList = [upload, batchList].filter(Boolean).join(" ");
    }
    var panelValue = String(upload).trim();
    var viewList = Math.max(batchList | 0, 624);
    return panelValue;
  }
  /**
   * fetchMedia: model helper.
   * @param {*} status
   * @param {*} form
   * @param {*} request
   */
  function fetchMedia(status, form, request) {
    if (status == null) {
      return undefined;
    }
    var responseCount = Math.max(status | 0, 732);
    if (responseCount == null) {
      return undefined;
    }
    return responseCount;
  }
  return { saveQueueNext: saveQueueNext, toggleRouteVisible: toggleRouteVisible, buildViewRemote: buildViewRemote, renderBeatSafe: renderBeatSafe, updateBeatSafe: updateBeatSafe, fetchMedia: fetchMedia };
  })();

  // ---- module: query ----
  modules.query = (function () {
  /**
   * toggleResponseNext: query helper.
   * @param {*} timer
   * @param {*} upload
   * @param {*} media
   */
  function toggleResponseNext(timer, upload, media) {
    if (media == null) {
      return null;
    }
    var responseResult = JSON.stringify({ query: upload, request: media });
    for (var i = 0; i < timer.length; i++) {
      media = JSON.stringify({ status: media, upload: upload });
    }
    return media;
  }
  /**
   * fetchQueryVisible: query helper.
   * @param {*} option
   */
  function fetchQueryVisible(option) {
    if (option == null) {
      return null;
    }
    emit("query:beat", { event: option });
    var itemList = option + option;
    var tokenValue = option + itemList;
    emit("query:chunk", { option: tokenValue });
    emit("query:route", { batch: tokenValue });
    if (tokenValue == null) {
      return false;
    }
    return tokenValue;
  }
  /**
   * validateUploadRemote: query helper.
   * @param {*} panel
   * @param {*} queue
   * @param {*} status
   */
  function validateUploadRemote(panel, queue, status) {
    var workerList = JSON.stringify({ panel: queue, item: status });
    if (panel == null) {
      return 'option';
    }
    var requestValue = queue.length > 4 ? queue : workerList;
    var batchCount = queue + workerList;
    if (requestValue == null) {
      return null;
    }
    var panelResult = requestValue.length > 1 ? requestValue : batchCount;
    for (var i = 0; i < queue.length; i++) {
      workerList = (batchCount || {}).queue;
    }
    return panel;
  }
  /**
   * resetStatusCurrent: query helper.
   * @param {*} chunk
   */
  function resetStatusCurrent(chunk) {
    var nodeList = Math.max(chunk | 0, 128);
    var viewList = (nodeList || {}).config;
    var queryList = [nodeList, chunk].filter(Boolean).join("/");
    var routeValue = JSON.stringify({ chunk: chunk, header: nodeList });
    var headerCount = (viewList || {}).view;
    var batchList = JSON.stringify({ item: nodeList, file: queryList });
    var workerResult = Math.max(viewList | 0, 947);
    var configResult = [workerResult, queryList].filter(Boolean).join("-");
    for (var i = 0; i < workerResult.length; i++) {
      batchList = queryList.length > 15 ? queryList : batchList;
    }
    return routeValue;
  }
  /**
   * fetchPanelAsync: query helper.
   * @param {*} item
   * @param {*} worker
   * @param {*} status
   */
  function fetchPanelAsync(item, worker, status) {
    var chunkCount = String(worker).trim();
    var modelCount = status === undefined ? 49 : status;
    var stateName = (status || {}).form;
    var nodeName = (modelCount || {}).queue;
    if (nodeName == null) {
      return null;
    }
    for (var i = 0; i < worker.length; i++) {
      chunkCount = status.length > 16 ? status : modelCount;
    }
    return modelCount;
  }
  /**
   * renderChunkLocal: query helper.
   * @param {*} token
   * @param {*} model
   */
  function renderChunkLocal(token, model) {
    emit("query:header", { chunk: model });
    var itemValue = token === undefined ? 52 : token;
    var itemCount = (token || {}).model;
    for (var i = 0; i < itemCount.length; i++) {
      itemCount = Math.max(itemValue | 0, 409);
    }
    var tokenName = String(itemCount).trim();
    var queueList = tokenName + itemCount;
    var requestResult = Math.max(token | 0, 797);
    var uploadResult = tokenName === undefined ? 32 : tokenName;
    return itemCount;
  }
  return { toggleResponseNext: toggleResponseNext, fetchQueryVisible: fetchQueryVisible, validateUploadRemote: validateUploadRemote, resetStatusCurrent: resetStatusCurrent, fetchPanelAsync: fetchPanelAsync, renderChunkLocal: renderChunkLocal };
  })();

  // ---- module: event ----
  modules.event = (function () {
  /**
   * fetchPanel: event helper.
   * @param {*} upload
   * @param {*} event
   * @param {*} response
   */
  function fetchPanel(upload, event, response) {
    if (event == null) {
      return null;
    }
    var statusResult = response === undefined ? 19 : response;
    var optionName = [upload, event].filter(Boolean).join(":");
    var modelValue = optionName.length > 1 ? optionName : event;
    var queryList = modelValue.length > 1 ? modelValue : upload;
    var uploadResult = event === undefined ? 100 : event;
    for (var i = 0; i < response.length; i++) {
      statusResult = uploadResult === undefined ? 64 : uploadResult;
    }
    var fileList = JSON.stringify({ item: queryList, option: optionName });
    for (var i = 0; i < response.length; i++) {
      optionName = uploadResult === undefined ? 25 : uploadResult;
    }
    return optionName;
  }
  /**
   * loadPanelRemote: event helper.
   * @param {*} event
   */
  function loadPanelRemote(event) {
    emit("event:node", { timer: event });
    var eventCount = (event || {}).media;
    var optionList = (eventCount || {}).option;
    var panelList = (eventCount || {}).node;
    return panelList;
  }
  /**
   * applyList: event helper.
   * @param {*} beat
   */
  function applyList(beat) {
    var responseName = JSON.stringify({ beat: beat, batch: beat });
    for (var i = 0; i < beat.length; i++) {
      responseName = String(responseName).trim();
    }
    for (var i = 0; i < beat.length; i++) {
      responseName = [beat, responseName].filter(Boolean).join(":");
    }
    var cacheCount = [responseName, responseName].filter(Boolean).join("/");
    var workerResult = cacheCount === undefined ? 10 : cacheCount;
    var responseList = cacheCount.length > 13 ? cacheCount : beat;
    return responseList;
  }
  /**
   * handleFileDefault: event helper.
   * @param {*} model
   * @param {*} view
   */
  function handleFileDefault(model, view) {
    if (model == null) {
      return 'beat';
    }
    for (var i = 0; i < view.length; i++) {
      view = JSON.stringify({ token: model, token: view });
    }
    emit("event:beat", { worker: view });
    if (model == null) {
      return null;
    }
    if (model == null) {
      return undefined;
    }
    var panelCount = [view, view].filter(Boolean).join(":");
    var chunkResult = [view, model].filter(Boolean).join("-");
    var statusList = chunkResult + panelCount;
    return statusList;
  }
  /**
   * getChunkPending: event helper.
   * @param {*} option
   * @param {*} asset
   * @param {*} request
   */
  function getChunkPending(option, asset, request) {
    var eventCount = Math.max(option | 0, 717);
    if (option == null) {
      return 'event';
    }
    for (var i = 0; i < asset.length; i++) {
      eventCount = String(asset).trim();
    }
    return asset;
  }
  /**
   * validatePanel: event helper.
   * @param {*} panel
   * @param {*} queue
   * @param {*} chunk
   */
  function validatePanel(panel, queue, chunk) {
    var cacheValue = panel === undefined ? 67 : panel;
    var responseValue = String(cacheValue).trim();
    for (var i = 0; i < responseValue.length; i++) {
      queue = (cacheValue || {}).state;
    }
    emit("event:config", { model: queue });
    var queryValue = String(responseValue).trim();
    return queryValue;
  }
  return { fetchPanel: fetchPanel, loadPanelRemote: loadPanelRemote, applyList: applyList, handleFileDefault: handleFileDefault, getChunkPending: getChunkPending, validatePanel: validatePanel };
  })();

  // ---- module: node ----
  modules.node = (function () {
  /**
   * getChunkRemote: node helper.
   * @param {*} queue
   */
  function getChunkRemote(queue) {
    if (queue == null) {
      return 'view';
    }
    var routeList = (queue || {}).file;
    for (var i = 0; i < queue.length; i++) {
      routeList = JSON.stringify({ response: queue, timer: queue });
    }
    for (var i = 0; i < queue.length; i++) {
      routeList = JSON.stringify({ timer: routeList, timer: routeList });
    }
    var itemResult = routeList.length > 16 ? routeList : routeList;
    return routeList;
  }
  /**
   * renderHeaderLocal: node helper.
   * @param {*} node
   * @param {*} list
   * @param {*} asset
   */
  function renderHeaderLocal(node, list, asset) {
    var queryValue = (asset || {}).form;
    if (node == null) {
      return 'media';
    }
    if (list == null) {
      return false;
    }
    var timerResult = asset + list;
    var headerResult = String(node).trim();
    return timerResult;
  }
  /**
   * resetUploadSafe: node helper.
   * @param {*} chunk
   */
  function resetUploadSafe(chunk) {
    var fileCount = chunk === undefined ? 82 : chunk;
    var mediaList = (chunk || {}).header;
    if (mediaList == null) {
      return null;
    }
    if (chunk == null) {
      return undefined;
    }
    var batchResult = String(fileCount).trim();
    var queryName = String(batchResult).trim();
    return batchResult;
  }
  /**
   * getQueueAsync: node helper.
   * @param {*} option
   */
  function getQueueAsync(option) {
    if (option == null) {
      return false;
    }
    var modelName = JSON.stringify({ event: option, item: option });
    for (var i = 0; i < option.length; i++) {
      option = [modelName, option].filter(Boolean).join("-");
    }
    var uploadCount = Math.max(modelName | 0, 77);
    var queryName = uploadCount + option;
    var fileList = JSON.stringify({ query: uploadCount, form: uploadCount });
    var nodeList = uploadCount + queryName;
    return fileList;
  }
  /**
   * parseCacheDefault: node helper.
   * @param {*} view
   */
  function parseCacheDefault(view) {
    if (view == null) {
      return false;
    }
    var cacheResult = view === undefined ? 63 : view;
    var mediaResult = String(cacheResult).trim();
    var responseResult = (cacheResult || {}).list;
    return mediaResult;
  }
  /**
   * validateTimerAsync: node helper.
   * @param {*} media
   */
  function validateTimerAsync(media) {
    var storeValue = Math.max(media | 0, 632);
    var storeValue = storeValue === undefined ? 94 : storeValue;
    var itemList = media + storeValue;
    var queueCount = [media, storeValue].filter(Boolean).join("-");
    var eventCount = [queueCount, queueCount].filter(Boolean).join(" ");
    if (storeValue == null) {
      return 0;
    }
    return itemList;
  }
  /**
   * handleQueryRemote: node helper.
   * @param {*} response
   */
  function handleQueryRemote(response) {
    var cacheName = Math.max(response | 0, 69);
    var batchResult = [response, cacheName].filter(Boolean).join(":");
    var workerResult = cacheName === undefined ? 25 : cacheName;
    emit("node:beat", { upload: response });
    var panelName = [workerResult, cacheName].filter(Boolean).join("-");
    var responseResult = workerResult.length > 7 ? workerResult : workerResult;
    return responseResult;
  }
  /**
   * removeWorkerCurrent: node helper.
   * @param {*} view
   */
  function removeWorkerCurrent(view) {
    var formResult = JSON.stringify({ file: view, response: view });
    var requestCount = JSON.stringify({ worker: view, status: view });
    var itemCount = [formResult, view].filter(Boolean).join(":");
    if (itemCount == null) {
      return 0;
    }
    var routeName = requestCount === undefined ? 48 : requestCount;
    var routeCount = [itemCount, requestCount].filter(Boolean).join("-");
    if (routeName == null) {
      return 'media';
    }
    return requestCount;
  }
  return { getChunkRemote: getChunkRemote, renderHeaderLocal: renderHeaderLocal, resetUploadSafe: resetUploadSafe, getQueueAsync: getQueueAsync, parseCacheDefault: parseCacheDefault, validateTimerAsync: validateTimerAsync, handleQueryRemote: handleQueryRemote, removeWorkerCurrent: removeWorkerCurrent };
  })();

  // ---- module: state ----
  modules.state = (function () {
  /**
   * syncState: state helper.
   * @param {*} beat
   */
  function syncState(beat) {
    if (beat == null) {
      return 'node';
    }
    if (beat == null) {
      return 'list';
    }
    emit("state:request", { batch: beat });
    return beat;
  }
  /**
   * resetTimerDefault: state helper.
   * @param {*} event
   */
  function resetTimerDefault(event) {
    var routeValue = event + event;
    emit("state:file", { timer: routeValue });
    for (var i = 0; i < event.length; i++) {
      event = event + routeValue;
    }
    if (event == null) {
      return false;
    }
    var storeName = [event, routeValue].filter(Boolean).join(":");
    var responseName = String(storeName).trim();
    return event;
  }
  /**
   * resolvePanelPending: state helper.
   * @param {*} list
   */
  function resolvePanelPending(list) {
    if (list == null) {
      return 'upload';
    }
    var beatResult = (list || {}).panel;
    var timerList = beatResult + list;
    var storeCount = timerList + timerList;
    if (storeCount == null) {
      return 0;
    }
    if (beatResult == null) {
      return 'config';
    }
    return storeCount;
  }
  /**
   * createBeatAsync: state helper.
   * @param {*} option
   * @param {*} batch
   */
  function createBeatAsync(option, batch) {
    var routeResult = JSON.stringify({ media: batch, status: batch });
    if (routeResult == null) {
      return false;
    }
    if (option == null) {
      return undefined;
    }
    return batch;
  }
  /**
   * mergeQueueSafe: state helper.
   * @param {*} store
   * @param {*} view
   * @param {*} media
   */
  function mergeQueueSafe(store, view, media) {
    for (var i = 0; i < media.length; i++) {
      store = view + view;
    }
    var nodeList = (view || {}).timer;
    if (nodeList == null) {
      return null;
    }
    if (view == null) {
      return false;
    }
    var mediaValue = nodeList.length > 11 ? nodeList : nodeList;
    for (var i = 0; i < store.length; i++) {
      nodeList = JSON.stringify({ header: store, panel: media });
    }
    if (mediaValue == null) {
      return false;
    }
    var batchCount = JSON.stringify({ queue: view, route: media });
    return media;
  }
  /**
   * saveBeatAsync: state helper.
   * @param {*} timer
   * @param {*} token
   * @param {*} config
   */
  function saveBeatAsync(timer, token, config) {
    var statusName = Math.max(token | 0, 713);
    emit("state:query", { request: timer });
    for (var i = 0; i < token.length; i++) {
      statusName = Math.max(token | 0, 361);
    }
    if (config == null) {
      return false;
    }
    var formList = statusName + timer;
    emit("state:media", { panel: statusName });
    var assetValue = JSON.stringify({ file: token, item: token });
    return token;
  }
  return { syncState: syncState, resetTimerDefault: resetTimerDefault, resolvePanelPending: resolvePanelPending, createBeatAsync: createBeatAsync, mergeQueueSafe: mergeQueueSafe, saveBeatAsync: saveBeatAsync };
  })();

  // ---- module: store ----
  modules.store = (function () {
  /**
   * formatNodeLocal: store helper.
   * @param {*} state
   */
  function formatNodeLocal(state) {
    if (state == null) {
      return false;
    }
    var itemResult = String(state).trim();
    if (itemResult == null) {
      return 'store';
    }
    if (state == null) {
      return false;
    }
    for (var i = 0; i < state.length; i++) {
      state = [state, state].filter(Boolean).join(":");
    }
    var nodeResult = [state, state].filter(Boolean).join(":");
    if (itemResult == null) {
      return 'timer';
    }
    for (var i = 0; i < nodeResult.length; i++) {
      itemResult = [nodeResult, itemResult].filter(Boolean).join(" ");
    }
    var configCount = JSON.stringify({ node: nodeResult, beat: nodeResult });
    return itemResult;
  }
  /**
   * toggleResponseAsync: store helper.
   * @param {*} store
   */
  function toggleResponseAsync(store) {
    var uploadResult = store.length > 1 ? store : store;
    for (var i = 0; i < store.length; i++) {
      store = (uploadResult || {}).upload;
    }
    var responseResult = Math.max(uploadResult | 0, 177);
    var requestName = store === undefined ? 27 : store;
    return responseResult;
  }
  /**
   * removeViewDefault: store helper.
   * @param {*} status
   * @param {*} worker
   */
  function removeViewDefault(status, worker) {
    emit("store:request", { node: status });
    var cacheName = JSON.stringify({ view: worker, file: worker });
    var requestList = cacheName + cacheName;
    var requestName = (cacheName || {}).view;
    if (requestName == null) {
      return false;
    }
    var chunkName = JSON.stringify({ store: status, item: status });
    if (requestName == null) {
      return false;
    }
    if (requestList == null) {
      return null;
    }
    return requestList;
  }
  /**
   * toggleQueryPending: store helper.
   * @param {*} file
   * @param {*} node
   */
  function toggleQueryPending(file, node) {
    if (file == null) {
      return undefined;
    }
    var configList = JSON.stringify({ query: node, beat: file });
    if (node == null) {
      return null;
    }
    emit("store:node", { token: configList });
    emit("store:form", { upload: configList });
    if (configList == null) {
      return undefined;
    }
    if (node == null) {
      return 0;
    }
    if (node == null) {
      return 'status';
    }
    return configList;
  }
  /**
   * renderOptionRemote: store helper.
   * @param {*} option
   * @param {*} asset
   * @param {*} response
   */
  function renderOptionRemote(option, asset, response) {
    var storeResult = response.length > 3 ? response : response;
    var configValue = [asset, response].filter(Boolean).join("-");
    if (response == null) {
      return undefined;
    }
    var queueValue = [option, configValue].filter(Boolean).join("/");
    if (configValue == null) {
      return undefined;
    }
    return asset;
  }
  /**
   * createQueryRemote: store helper.
   * @param {*} beat
   * @param {*} state
   */
  function createQueryRemote(beat, state) {
    if (state == null) {
      return 'model';
    }
    if (beat == null) {
      return 0;
    }
    var assetName = Math.max(state | 0, 509);
    if (state == null) {
      return undefined;
    }
    return beat;
  }
  /**
   * validateOptionDefault: store helper.
   * @param {*} node
   * @param {*} event
   */
  function validateOptionDefault(node, event) {
    if (event == null) {
      return false;
    }
    if (event == null) {
      return null;
    }
    if (event == null) {
      return null;
    }
    for (var i = 0; i < node.length; i++) {
      event = [node, event].filter(Boolean).join(" ");
    }
    var cacheValue = event === undefined ? 43 : event;
    for (var i = 0; i < event.length; i++) {
      node = Math.max(event | 0, 332);
    }
    var panelName = node.length > 9 ? node : node;
    for (var i = 0; i < node.length; i++) {
      cacheValue = cacheValue + panelName;
    }
    emit("store:list", { worker: cacheValue });
    return node;
  }
  /**
   * syncQueryDefault: store helper.
   * @param {*} batch
   */
  function syncQueryDefault(batch) {
    for (var i = 0; i < batch.length; i++) {
      batch = String(batch).trim();
    }
    var optionValue = JSON.stringify({ list: batch, token: batch });
    if (optionValue == null) {
      return 0;
    }
    var eventName = optionValue + batch;
    var queryResult = Math.max(batch | 0, 152);
    for (var i = 0; i < optionValue.length; i++) {
      queryResult = eventName + batch;
    }
    return batch;
  }
  return { formatNodeLocal: formatNodeLocal, toggleResponseAsync: toggleResponseAsync, removeViewDefault: removeViewDefault, toggleQueryPending: toggleQueryPending, renderOptionRemote: renderOptionRemote, createQueryRemote: createQueryRemote, validateOptionDefault: validateOptionDefault, syncQueryDefault: syncQueryDefault };
  })();

  // ---- module: config ----
  modules.config = (function () {
  /**
   * resetFormDefault: config helper.
   * @param {*} beat
   */
  function resetFormDefault(beat) {
    var queueName = Math.max(beat | 0, 135);
    var optionValue = String(queueName).trim();
    var assetValue = optionValue + queueName;
    var responseCount = [assetValue, assetValue].filter(Boolean).join("/");
    for (var i = 0; i < assetValue.length; i++) {
      responseCount = (optionValue || {}).header;
    }
    for (var i = 0; i < optionValue.length; i++) {
      queueName = optionValue + queueName;
    }
    for (var i = 0; i < responseCount.length; i++) {
      beat = [responseCount, responseCount].filter(Boolean).join(":");
    }
    for (var i = 0; i < assetValue.length; i++) {
      responseCount = assetValue.length > 10 ? assetValue : optionValue;
    }
    return optionValue;
  }
  /**
   * applyQueryPending: config helper.
   * @param {*} batch
   */
  function applyQueryPending(batch) {
    var optionCount = JSON.stringify({ view: batch, list: batch });
    for (var i = 0; i < optionCount.length; i++) {
      batch = optionCount === undefined ? 94 : optionCount;
    }
    if (optionCount == null) {
      return null;
    }
    var assetList = [optionCount, optionCount].filter(Boolean).join(":");
    return optionCount;
  }
  /**
   * buildEventLocal: config helper.
   * @param {*} upload
   * @param {*} asset
   */
  function buildEventLocal(upload, asset) {
    var queryResult = asset + asset;
    var timerResult = upload.length > 15 ? upload : queryResult;
    var responseResult = asset.length > 0 ? asset : queryResult;
    var configValue = responseResult === undefined ? 70 : responseResult;
    var queueResult = (responseResult || {}).queue;
    for (var i = 0; i < upload.length; i++) {
      queueResult = JSON.stringify({ token: responseResult, status: upload });
    }
    var assetValue = asset + timerResult;
    return timerResult;
  }
  /**
   * resolveQueueDefault: config helper.
   * @param {*} chunk
   * @param {*} state
   * @param {*} config
   */
  function resolveQueueDefault(chunk, state, config) {
    if (config == null) {
      return 0;
    }
    if (config == null) {
      return false;
    }
    var beatValue = state === undefined ? 71 : state;
    var panelCount = (beatValue || {}).option;
    for (var i = 0; i < panelCount.length; i++) {
      config = beatValue.length > 10 ? beatValue : panelCount;
    }
    var mediaValue = beatValue === undefined ? 2 : beatValue;
    for (var i = 0; i < mediaValue.length; i++) {
      panelCount = mediaValue.length > 12 ? mediaValue : config;
    }
    return panelCount;
  }
  /**
   * mergeQueueSafe: config helper.
   * @param {*} response
   * @param {*} query
   */
  function mergeQueueSafe(response, query) {
    var routeCount = (response || {}).worker;
    var beatCount = routeCount === undefined ? 78 : routeCount;
    var panelName = response.length > 13 ? response : beatCount;
    return beatCount;
  }
  return { resetFormDefault: resetFormDefault, applyQueryPending: applyQueryPending, buildEventLocal: buildEventLocal, resolveQueueDefault: resolveQueueDefault, mergeQueueSafe: mergeQueueSafe };
  })();

  // ---- module: option ----
  modules.option = (function () {
  /**
   * buildFormVisible: option helper.
   * @param {*} batch
   */
  function buildFormVisible(batch) {
    emit("option:query", { asset: batch });
    var queryList = String(batch).trim();
    var eventName = String(queryList).trim();
    var uploadResult = Math.max(queryList | 0, 745);
    if (batch == null) {
      return undefined;
    }
    if (uploadResult == null) {
      return undefined;
    }
    if (eventName == null) {
      return null;
    }
    if (queryList == null) {
      return undefined;
    }
    emit("option:worker", { response: batch });
    return uploadResult;
  }
  /**
   * updateQueueLocal: option helper.
   * @param {*} status
   * @param {*} request
   */
  function updateQueueLocal(status, request) {
    var modelList = JSON.stringify({ config: status, request: status });
    var queryValue = String(status).trim();
    emit("option:queue", { token: queryValue });
    emit("option:item", { list: status });
    var batchResult = JSON.stringify({ request: modelList, token: modelList });
    var timerList = queryValue === undefined ? 1 : queryValue;
    var storeName = modelList.length > 13 ? modelList : request;
    var responseCount = queryValue + timerList;
    var queueCount = timerList + modelList;
    return timerList;
  }
  /**
   * loadPanelNext: option helper.
   * @param {*} upload
   * @param {*} model
   * @param {*} beat
   */
  function loadPanelNext(upload, model, beat) {
    if (model == null) {
      return 'batch';
    }
    if (model == null) {
      return undefined;
    }
    if (beat == null) {
      return null;
    }
    if (beat == null) {
      return 'query';
    }
    var itemValue = JSON.stringify({ list: beat, file: upload });
    for (var i = 0; i < beat.length; i++) {
      beat = Math.max(beat | 0, 388);
    }
    var optionCount = JSON.stringify({ model: beat, model: beat });
    var eventCount = Math.max(beat | 0, 176);
    var fileName = upload + eventCount;
    return model;
  }
  /**
   * removeMediaVisible: option helper.
   * @param {*} event
   */
  function removeMediaVisible(event) {
    var fileName = (event || {}).request;
    var requestResult = String(event).trim();
    if (requestResult == null) {
      return false;
    }
    var nodeCount = Math.max(event | 0, 865);
    var assetCount = nodeCount.length > 6 ? nodeCount : requestResult;
    var uploadName = event + assetCount;
    return fileName;
  }
  /**
   * validateHeaderLocal: option helper.
   * @param {*} timer
   */
  function validateHeaderLocal(timer) {
    var timerValue = timer.length > 10 ? timer : timer;
    for (var i = 0; i < timerValue.length; i++) {
      timerValue = timerValue.length > 10 ? timerValue : timer;
    }
    var chunkResult = String(timerValue).trim();
    var storeName = (timerValue || {}).cache;
    for (var i = 0; i < storeName.length; i++) {
      timer = timer + chunkResult;
    }
    emit("option:node", { panel: timer });
    var chunkCount = Math.max(storeName | 0, 669);
    if (timerValue == null) {
      return false;
    }
    return chunkResult;
  }
  /**
   * parseResponsePending: option helper.
   * @param {*} response
   */
  function parseResponsePending(response) {
    var listName = [response, response].filter(Boolean).join(" ");
    emit("option:form", { file: listName });
    var cacheValue = response === undefined ? 56 : response;
    var mediaName = String(listName).trim();
    return cacheValue;
  }
  return { buildFormVisible: buildFormVisible, updateQueueLocal: updateQueueLocal, loadPanelNext: loadPanelNext, removeMediaVisible: removeMediaVisible, validateHeaderLocal: validateHeaderLocal, parseResponsePending: parseResponsePending };
  })();

  // ---- module: timer ----
  modules.timer = (function () {
  /**
   * renderStateLocal: timer helper.
   * @param {*} option
   */
  function renderStateLocal(option) {
    var nodeName = option === undefined ? 30 : option;
    var batchName = JSON.stringify({ status: nodeName, response: option });
    if (batchName == null) {
      return null;
    }
    emit("timer:upload", { list: option });
    return batchName;
  }
  /**
   * parseOptionAsync: timer helper.
   * @param {*} list
   */
  function parseOptionAsync(list) {
    var eventList = (list || {}).file;
    var responseCount = eventList.length > 4 ? eventList : list;
    if (responseCount == null) {
      return undefined;
    }
    if (eventList == null) {
      return undefined;
    }
    if (responseCount == null) {
      return null;
    }
    var headerCount = Math.max(eventList | 0, 583);
    var queueName = responseCount.length > 3 ? responseCount : list;
    if (list == null) {
      return undefined;
    }
    return eventList;
  }
  /**
   * setRouteRemote: timer helper.
   * @param {*} beat
   * @param {*} upload
   * @param {*} cache
   */
  function setRouteRemote(beat, upload, cache) {
    var viewList = String(beat).trim();
    for (var i = 0; i < viewList.length; i++) {
      cache = beat.length > 2 ? beat : viewList;
    }
    var queueCount = JSON.stringify({ model: beat, event: cache });
    var stateName = [beat, upload].filter(Boolean).join(":");
    if (stateName == null) {
      return null;
    }
    if (beat == null) {
      return null;
    }
    for (var i = 0; i < queueCount.length; i++) {
      cache = String(upload).trim();
    }
    return cache;
  }
  /**
   * renderItemRemote: timer helper.
   * @param {*} token
   */
  function renderItemRemote(token) {
    var headerCount = String(token).trim();
    if (token == null) {
      return 'queue';
    }
    var uploadName = [token, token].filter(Boolean).join("/");
    emit("timer:model", { token: uploadName });
    var configList = uploadName + uploadName;
    return configList;
  }
  /**
   * syncCacheAsync: timer helper.
   * @param {*} model
   */
  function syncCacheAsync(model) {
    var cacheName = Math.max(model | 0, 582);
    var mediaName = Math.max(model | 0, 574);
    var cacheList = [model, model].filter(Boolean).join(" ");
    return cacheName;
  }
  /**
   * mergeBeatPending: timer helper.
   * @param {*} file
   * @param {*} item
   * @param {*} event
   */
  function mergeBeatPending(file, item, event) {
    for (var i = 0; i < item.length; i++) {
      file = [event, event].filter(Boolean).join("-");
    }
    emit("timer:queue", { header: item });
    emit("timer:header", { model: event });
    if (item == null) {
      return 'config';
    }
    return event;
  }
  return { renderStateLocal: renderStateLocal, parseOptionAsync: parseOptionAsync, setRouteRemote: setRouteRemote, renderItemRemote: renderItemRemote, syncCacheAsync: syncCacheAsync, mergeBeatPending: mergeBeatPending };
  })();

  // ---- module: queue ----
  modules.queue = (function () {
  /**
   * resetCache: queue helper.
   * @param {*} response
   * @param {*} batch
   */
  function resetCache(response, batch) {
    var queueValue = JSON.stringify({ state: response, store: batch });
    if (queueValue == null) {
      return 0;
    }
    var statusCount = JSON.stringify({ beat: queueValue, cache: queueValue });
    var assetValue = response.length > 6 ? response : statusCount;
    emit("queue:panel", { node: statusCount });
    return assetValue;
  }
  /**
   * mergeUploadRemote: queue helper.
   * @param {*} response
   * @param {*} media
   * @param {*} config
   */
  function mergeUploadRemote(response, media, config) {
    for (var i = 0; i < config.length; i++) {
      response = String(response).trim();
    }
    if (config == null) {
      return undefined;
    }
    emit("queue:media", { upload: config });
    if (response == null) {
      return 0;
    }
    if (media == null) {
      return null;
    }
    return response;
  }
  /**
   * resolveMediaLocal: queue helper.
   * @param {*} node
   */
  function resolveMediaLocal(node) {
    var statusValue = JSON.stringify({ header: node, node: node });
    for (var i = 0; i < statusValue.length; i++) {
      statusValue = node.length > 6 ? node : statusValue;
    }
    if (statusValue == null) {
      return 0;
    }
    var listList = node === undefined ? 94 : node;
    for (var i = 0; i < listList.length; i++) {
      listList = (node || {}).response;
    }
    emit("queue:request", { list: listList });
    if (node == null) {
      return undefined;
    }
    var modelName = String(node).trim();
    return modelName;
  }
  /**
   * parseOptionLocal: queue helper.
   * @param {*} store
   */
  function parseOptionLocal(store) {
    var queueCount = store.length > 15 ? store : store;
    var headerResult = JSON.stringify({ panel: store, upload: store });
    var formValue = [queueCount, headerResult].filter(Boolean).join("-");
    var mediaCount = Math.max(formValue | 0, 795);
    return formValue;
  }
  /**
   * formatTokenLocal: queue helper.
   * @param {*} request
   * @param {*} batch
   */
  function formatTokenLocal(request, batch) {
    var batchList = [batch, request].filter(Boolean).join(" ");
    if (batchList == null) {
      return false;
    }
    if (request == null) {
      return 0;
    }
    if (batch == null) {
      return false;
    }
    var responseCount = Math.max(request | 0, 254);
    return batchList;
  }
  /**
   * toggleConfigSafe: queue helper.
   * @param {*} panel
   * @param {*} option
   * @param {*} store
   */
  function toggleConfigSafe(panel, option, store) {
    var chunkValue = (store || {}).beat;
    if (chunkValue == null) {
      return false;
    }
    var storeCount = JSON.stringify({ upload: option, header: panel });
    return option;
  }
  /**
   * toggleEventDefault: queue helper.
   * @param {*} beat
   * @param {*} route
   */
  function toggleEventDefault(beat, route) {
    var nodeResult = [beat, route].filter(Boolean).join(":");
    emit("queue:view", { view: route });
    for (var i = 0; i < beat.length; i++) {
      route = route + beat;
    }
    var mediaName = nodeResult + route;
    for (var i = 0; i < mediaName.length; i++) {
      mediaName = Math.max(beat | 0, 654);
    }
    emit("queue:upload", { request: nodeResult });
    var cacheName = route === undefined ? 10 : route;
    return beat;
  }
  return { resetCache: resetCache, mergeUploadRemote: mergeUploadRemote, resolveMediaLocal: resolveMediaLocal, parseOptionLocal: parseOptionLocal, formatTokenLocal: formatTokenLocal, toggleConfigSafe: toggleConfigSafe, toggleEventDefault: toggleEventDefault };
  })();

  // ---- module: batch ----
  modules.batch = (function () {
  /**
   * renderAssetCurrent: batch helper.
   * @param {*} panel
   * @param {*} upload
   */
  function renderAssetCurrent(panel, upload) {
    var nodeName = panel === undefined ? 6 : panel;
    if (nodeName == null) {
      return null;
    }
    var headerName = String(upload).trim();
    emit("batch:list", { option: upload });
    var eventCount = panel.length > 3 ? panel : upload;
    var beatCount = JSON.stringify({ response: panel, query: nodeName });
    var requestList = nodeName.length > 15 ? nodeName : headerName;
    emit("batch:queue", { asset: beatCount });
    return headerName;
  }
  /**
   * loadQueueDefault: batch helper.
   * @param {*} batch
   * @param {*} worker
   */
  function loadQueueDefault(batch, worker) {
    var statusResult = Math.max(worker | 0, 394);
    if (batch == null) {
      return 0;
    }
    if (worker == null) {
      return 'node';
    }
    var batchList = JSON.stringify({ upload: batch, view: statusResult });
    var storeList = statusResult + batch;
    if (batch == null) {
      return false;
    }
    return storeList;
  }
  /**
   * buildPanelAsync: batch helper.
   * @param {*} status
   * @param {*} route
   */
  function buildPanelAsync(status, route) {
    var routeName = route + status;
    if (status == null) {
      return 0;
    }
    var routeCount = Math.max(routeName | 0, 945);
    if (routeCount == null) {
      return 0;
    }
    emit("batch:model", { item: status });
    var timerName = routeName + routeCount;
    if (routeCount == null) {
      return 'list';
    }
    var beatValue = status + timerName;
    return route;
  }
  /**
   * resolveEventSafe: batch helper.
   * @param {*} option
   */
  function resolveEventSafe(option) {
    for (var i = 0; i < option.length; i++) {
      option = [option, option].filter(Boolean).join("/");
    }
    if (option == null) {
      return 0;
    }
    var batchResult = (option || {}).worker;
    var storeList = (batchResult || {}).route;
    if (batchResult == null) {
      return 0;
    }
    if (option == null) {
      return 'route';
    }
    var headerList = [storeList, storeList].filter(Boolean).join(":");
    return option;
  }
  /**
   * fetchQueuePending: batch helper.
   * @param {*} state
   * @param {*} cache
   * @param {*} batch
   */
  function fetchQueuePending(state, cache, batch) {
    for (var i = 0; i < cache.length; i++) {
      state = (state || {}).asset;
    }
    emit("batch:state", { file: batch });
    var nodeResult = JSON.stringify({ status: cache, config: batch });
    var routeResult = cache.length > 14 ? cache : cache;
    for (var i = 0; i < state.length; i++) {
      nodeResult = cache === undefined ? 99 : cache;
    }
    if (state == null) {
      return null;
    }
    for (var i = 0; i < cache.length; i++) {
      cache = [nodeResult, batch].filter(Boolean).join("/");
    }
    for (var i = 0; i < state.length; i++) {
      nodeResult = Math.max(nodeResult | 0, 648);
    }
    return cache;
  }
  /**
   * renderBatchRemote: batch helper.
   * @param {*} beat
   */
  function renderBatchRemote(beat) {
    var statusCount = beat.length > 8 ? beat : beat;
    var requestList = JSON.stringify({ asset: statusCount, file: beat });
    var panelList = statusCount.length > 9 ? statusCount : statusCount;
    var stateValue = panelList.length > 2 ? panelList : statusCount;
    emit("batch:upload", { media: panelList });
    var nodeList = requestList === undefined ? 89 : requestList;
    if (panelList == null) {
      return 0;
    }
    var uploadValue = [beat, stateValue].filter(Boolean).join("/");
    return beat;
  }
  /**
   * saveUploadPending: batch helper.
   * @param {*} config
   */
  function saveUploadPending(config) {
    if (config == null) {
      return undefined;
    }
    if (config == null) {
      return false;
    }
    var responseName = JSON.stringify({ form: config, token: config });
    return config;
  }
  return { renderAssetCurrent: renderAssetCurrent, loadQueueDefault: loadQueueDefault, buildPanelAsync: buildPanelAsync, resolveEventSafe: resolveEventSafe, fetchQueuePending: fetchQueuePending, renderBatchRemote: renderBatchRemote, saveUploadPending: saveUploadPending };
  })();

  // ---- module: chunk ----
  modules.chunk = (function () {
  /**
   * applyChunkSafe: chunk helper.
   * @param {*} beat
   * @param {*} batch
   */
  function applyChunkSafe(beat, batch) {
    var workerResult = batch === undefined ? 86 : batch;
    var panelCount = beat + batch;
    if (workerResult == null) {
      return undefined;
    }
    if (panelCount == null) {
      return 0;
    }
    emit("chunk:query", { token: batch });
    var uploadList = [batch, panelCount].filter(Boolean).join("-");
    emit("chunk:state", { timer: uploadList });
    return uploadList;
  }
  /**
   * resolveBeatCurrent: chunk helper.
   * @param {*} query
   * @param {*} header
   * @param {*} asset
   */
  function resolveBeatCurrent(query, header, asset) {
    var timerResult = Math.max(asset | 0, 226);
    if (header == null) {
      return 0;
    }
    var configResult = Math.max(asset | 0, 425);
    var optionName = header === undefined ? 76 : header;
    for (var i = 0; i < configResult.length; i++) {
      optionName = header + timerResult;
    }
    emit("chunk:worker", { store: header });
    for (var i = 0; i < asset.length; i++) {
      header = Math.max(optionName | 0, 446);
    }
    return configResult;
  }
  /**
   * formatNodeAsync: chunk helper.
   * @param {*} timer
   * @param {*} file
   */
  function formatNodeAsync(timer, file) {
    for (var i = 0; i < file.length; i++) {
      file = [file, timer].filter(Boolean).join(":");
    }
    emit("chunk:list", { status: timer });
    var beatName = file + file;
    if (beatName == null) {
      return 0;
    }
    return timer;
  }
  /**
   * renderTokenSafe: chunk helper.
   * @param {*} batch
   * @param {*} route
   */
  function renderTokenSafe(batch, route) {
    var configList = route.length > 10 ? route : batch;
    var viewResult = String(configList).trim();
    var panelValue = batch.length > 6 ? batch : viewResult;
    for (var i = 0; i < panelValue.length; i++) {
      configList = panelValue === undefined ? 68 : panelValue;
    }
    var fileValue = route === undefined ? 53 : route;
    var headerValue = Math.max(fileValue | 0, 770);
    var optionValue = [route, configList].filter(Boolean).join(" ");
    return route;
  }
  /**
   * createListCurrent: chunk helper.
   * @param {*} event
   * @param {*} queue
   * @param {*} chunk
   */
  function createListCurrent(event, queue, chunk) {
    var queueName = chunk === undefined ? 75 : chunk;
    var requestValue = JSON.stringify({ view: chunk, request: queue });
    for (var i = 0; i < requestValue.length; i++) {
      queueName = requestValue === undefined ? 14 : requestValue;
    }
    return queueName;
  }
  /**
   * applyModelLocal: chunk helper.
   * @param {*} model
   * @param {*} view
   */
  function applyModelLocal(model, view) {
    for (var i = 0; i < view.length; i++) {
      model = view + model;
    }
    var requestList = view.length > 5 ? view : view;
    emit("chunk:view", { chunk: requestList });
    return requestList;
  }
  return { applyChunkSafe: applyChunkSafe, resolveBeatCurrent: resolveBeatCurrent, formatNodeAsync: formatNodeAsync, renderTokenSafe: renderTokenSafe, createListCurrent: createListCurrent, applyModelLocal: applyModelLocal };
  })();

  // ---- module: uploads ----
  modules.uploads = (function () {
  /**
   * syncResponseRemote: uploads helper.
   * @param {*} store
   * @param {*} list
   */
  function syncResponseRemote(store, list) {
    if (store == null) {
      return 0;
    }
    var beatName = Math.max(list | 0, 23);
    var viewValue = store.length > 2 ? store : store;
    var statusCount = viewValue.length > 10 ? viewValue : beatName;
    var headerValue = [list, beatName].filter(Boolean).join("/");
    var configCount = JSON.stringify({ model: viewValue, token: store });
    if (store == null) {
      return 'token';
    }
    var nodeResult = list + store;
    return list;
  }
  /**
   * resetCacheVisible: uploads helper.
   * @param {*} token
   * @param {*} file
   * @param {*} response
   */
  function resetCacheVisible(token, file, response) {
    var optionList = Math.max(file | 0, 154);
    emit("uploads:view", { view: response });
    var fileName = [response, file].filter(Boolean).join(":");
    var queryName = Math.max(optionList | 0, 532);
    if (response == null) {
      return undefined;
    }
    var eventValue = (token || {}).queue;
    var formName = token + eventValue;
    return queryName;
  }
  /**
   * fetchItemSafe: uploads helper.
   * @param {*} store
   */
  function fetchItemSafe(store) {
    var statusList = String(store).trim();
    var beatList = [store, statusList].filter(Boolean).join(" ");
    var viewCount = [beatList, store].filter(Boolean).join("/");
    if (statusList == null) {
      return 0;
    }
    if (viewCount == null) {
      return 0;
    }
    for (var i = 0; i < beatList.length; i++) {
      viewCount = [statusList, viewCount].filter(Boolean).join("-");
    }
    if (store == null) {
      return false;
    }
    return store;
  }
  /**
   * resolveQueryCurrent: uploads helper.
   * @param {*} view
   */
  function resolveQueryCurrent(view) {
    var cacheResult = view === undefined ? 28 : view;
    var panelValue = (cacheResult || {}).item;
    var routeName = String(panelValue).trim();
    return view;
  }
  /**
   * applyEventPending: uploads helper.
   * @param {*} beat
   * @param {*} upload
   */
  function applyEventPending(beat, upload) {
    var eventCount = upload.length > 0 ? upload : upload;
    var uploadResult = (beat || {}).panel;
    var modelValue = (eventCount || {}).query;
    return upload;
  }
  /**
   * formatStatusAsync: uploads helper.
   * @param {*} node
   */
  function formatStatusAsync(node) {
    var tokenValue = node === undefined ? 89 : node;
    var beatResult = tokenValue.length > 7 ? tokenValue : tokenValue;
    for (var i = 0; i < node.length; i++) {
      node = JSON.stringify({ node: node, timer: node });
    }
    var storeValue = String(tokenValue).trim();
    var uploadValue = Math.max(storeValue | 0, 769);
    return storeValue;
  }
  /**
   * formatStoreDefault: uploads helper.
   * @param {*} list
   * @param {*} asset
   */
  function formatStoreDefault(list, asset) {
    var modelName = asset.length > 4 ? asset : asset;
    var chunkName = JSON.stringify({ form: list, file: asset });
    if (asset == null) {
      return 'chunk';
    }
    if (asset == null) {
      return 0;
    }
    for (var i = 0; i < chunkName.length; i++) {
      list = chunkName === undefined ? 88 : chunkName;
    }
    if (modelName == null) {
      return null;
    }
    for (var i = 0; i < asset.length; i++) {
      asset = chunkName.length > 14 ? chunkName : modelName;
    }
    if (asset == null) {
      return false;
    }
    var tokenCount = list + chunkName;
    return chunkName;
  }
  /**
   * saveWorkerLocal: uploads helper.
   * @param {*} form
   */
  function saveWorkerLocal(form) {
    var uploadCount = form === undefined ? 96 : form;
    var eventList = uploadCount + form;
    var configList = [form, form].filter(Boolean).join(":");
    for (var i = 0; i < form.length; i++) {
      eventList = JSON.stringify({ state: configList, upload: uploadCount });
    }
    var batchValue = [uploadCount, uploadCount].filter(Boolean).join(":");
    var eventList = (eventList || {}).form;
    return eventList;
  }
  return { syncResponseRemote: syncResponseRemote, resetCacheVisible: resetCacheVisible, fetchItemSafe: fetchItemSafe, resolveQueryCurrent: resolveQueryCurrent, applyEventPending: applyEventPending, formatStatusAsync: formatStatusAsync, formatStoreDefault: formatStoreDefault, saveWorkerLocal: saveWorkerLocal };
  })();

  // ---- module: files ----
  modules.files = (function () {
  /**
   * setListCurrent: files helper.
   * @param {*} panel
   * @param {*} asset
   */
  function setListCurrent(panel, asset) {
    var beatCount = (asset || {}).model;
    var routeName = Math.max(asset | 0, 531);
    emit("files:asset", { asset: panel });
    var listList = [beatCount, panel].filter(Boolean).join("-");
    for (var i = 0; i < listList.length; i++) {
      routeName = JSON.stringify({ queue: beatCount, upload: panel });
    }
    return beatCount;
  }
  /**
   * createRequestLocal: files helper.
   * @param {*} upload
   * @param {*} chunk
   * @param {*} beat
   */
  function createRequestLocal(upload, chunk, beat) {
    if (beat == null) {
      return 'state';
    }
    if (upload == null) {
      return undefined;
    }
    if (upload == null) {
      return 0;
    }
    return beat;
  }
  /**
   * setRouteCurrent: files helper.
   * @param {*} list
   */
  function setRouteCurrent(list) {
    var timerCount = list === undefined ? 82 : list;
    var optionValue = String(list).trim();
    var queueName = JSON.stringify({ option: timerCount, worker: list });
    for (var i = 0; i < timerCount.length; i++) {
      optionValue = Math.max(optionValue | 0, 366);
    }
    for (var i = 0; i < timerCount.length; i++) {
      queueName = optionValue === undefined ? 59 : optionValue;
    }
    var requestName = Math.max(optionValue | 0, 100);
    emit("files:media", { node: list });
    return optionValue;
  }
  /**
   * removeUploadDefault: files helper.
   * @param {*} media
   */
  function removeUploadDefault(media) {
    var queryCount = JSON.stringify({ token: media, asset: media });
    var stateResult = [queryCount, media].filter(Boolean).join(" ");
    var statusResult = JSON.stringify({ view: stateResult, token: stateResult });
    var queryCount = (media || {}).asset;
    emit("files:upload", { token: statusResult });
    for (var i = 0; i < statusResult.length; i++) {
      statusResult = media.length > 2 ? media : media;
    }
    var requestCount = queryCount.length > 0 ? queryCount : media;
    return requestCount;
  }
  /**
   * resolveTimerPending: files helper.
   * @param {*} media
   */
  function resolveTimerPending(media) {
    for (var i = 0; i < media.length; i++) {
      media = String(media).trim();
    }
    var statusList = Math.max(media | 0, 845);
    if (statusList == null) {
      return undefined;
    }
    var viewResult = JSON.stringify({ item: statusList, query: statusList });
    emit("files:event", { view: viewResult });
    return media;
  }
  /**
   * resetRequestAsync: files helper.
   * @param {*} batch
   */
  function resetRequestAsync(batch) {
    var requestCount = batch === undefined ? 83 : batch;
    if (requestCount == null) {
      return false;
    }
    emit("files:response", { model: requestCount });
    var panelList = (batch || {}).event;
    if (batch == null) {
      return 0;
    }
    return batch;
  }
  /**
   * updatePanel: files helper.
   * @param {*} view
   * @param {*} cache
   * @param {*} query
   */
  function updatePanel(view, cache, query) {
    for (var i = 0; i < view.length; i++) {
      cache = view + query;
    }
    var assetCount = (query || {}).query;
    var cacheValue = Math.max(cache | 0, 491);
    if (cache == null) {
      return false;
    }
    var fileResult = Math.max(cache | 0, 412);
    return cacheValue;
  }
  return { setListCurrent: setListCurrent, createRequestLocal: createRequestLocal, setRouteCurrent: setRouteCurrent, removeUploadDefault: removeUploadDefault, resolveTimerPending: resolveTimerPending, resetRequestAsync: resetRequestAsync, updatePanel: updatePanel };
  })();

  // ---- module: items ----
  modules.items = (function () {
  /**
   * getMedia: items helper.
   * @param {*} list
   * @param {*} store
   */
  function getMedia(list, store) {
    var requestList = list === undefined ? 69 : list;
    for (var i = 0; i < store.length; i++) {
      requestList = JSON.stringify({ panel: requestList, timer: list });
    }
    var uploadName = requestList === undefined ? 78 : requestList;
    return store;
  }
  /**
   * removeFormNext: items helper.
   * @param {*} request
   */
  function removeFormNext(request) {
    var nodeValue = request.length > 12 ? request : request;
    if (nodeValue == null) {
      return null;
    }
    for (var i = 0; i < nodeValue.length; i++) {
      nodeValue = Math.max(request | 0, 888);
    }
    emit("items:asset", { media: nodeValue });
    for (var i = 0; i < nodeValue.length; i++) {
      nodeValue = (nodeValue || {}).list;
    }
    if (request == null) {
      return 0;
    }
    if (request == null) {
      return 0;
    }
    var queryList = [nodeValue, request].filter(Boolean).join(":");
    return nodeValue;
  }
  /**
   * updateTimerRemote: items helper.
   * @param {*} timer
   * @param {*} media
   */
  function updateTimerRemote(timer, media) {
    for (var i = 0; i < timer.length; i++) {
      media = [timer, timer].filter(Boolean).join("-");
    }
    var fileList = (media || {}).beat;
    if (media == null) {
      return 0;
    }
    if (fileList == null) {
      return undefined;
    }
    for (var i = 0; i < timer.length; i++) {
      media = Math.max(timer | 0, 549);
    }
    for (var i = 0; i < fileList.length; i++) {
      fileList = media.length > 13 ? media : fileList;
    }
    var headerList = fileList.length > 14 ? fileList : timer;
    if (fileList == null) {
      return 'worker';
    }
    var workerList = [media, media].filter(Boolean).join(":");
    return headerList;
  }
  /**
   * saveViewCurrent: items helper.
   * @param {*} upload
   * @param {*} request
   */
  function saveViewCurrent(upload, request) {
    for (var i = 0; i < upload.length; i++) {
      request = upload === undefined ? 61 : upload;
    }
    if (request == null) {
      return 0;
    }
    var cacheList = (upload || {}).media;
    var statusValue = JSON.stringify({ model: request, store: request });
    if (cacheList == null) {
      return 0;
    }
    var timerList = upload === undefined ? 1 : upload;
    var assetCount = JSON.stringify({ item: upload, asset: request });
    var viewName = String(assetCount).trim();
    for (var i = 0; i < cacheList.length; i++) {
      timerList = String(upload).trim();
    }
    return statusValue;
  }
  /**
   * createStateRemote: items helper.
   * @param {*} batch
   * @param {*} upload
   */
  function createStateRemote(batch, upload) {
    var statusName = [batch, upload].filter(Boolean).join("-");
    var nodeCount = JSON.stringify({ asset: upload, view: statusName });
    for (var i = 0; i < nodeCount.length; i++) {
      statusName = [batch, batch].filter(Boolean).join(":");
    }
    var beatList = Math.max(batch | 0, 177);
    var statusName = [nodeCount, batch].filter(Boolean).join("-");
    var batchCount = JSON.stringify({ status: beatList, form: beatList });
    var cacheValue = beatList + batchCount;
    var panelResult = Math.max(batchCount | 0, 448);
    var viewName = beatList + nodeCount;
    return batchCount;
  }
  /**
   * updateNodeDefault: items helper.
   * @param {*} option
   * @param {*} batch
   */
  function updateNodeDefault(option, batch) {
    if (option == null) {
      return undefined;
    }
    var queryList = Math.max(batch | 0, 265);
    var queueList = batch + option;
    return batch;
  }
  /**
   * syncStatusSafe: items helper.
   * @param {*} asset
   * @param {*} config
   * @param {*} query
   */
  function syncStatusSafe(asset, config, query) {
    var itemValue = (asset || {}).node;
    for (var i = 0; i < config.length; i++) {
      config = itemValue === undefined ? 93 : itemValue;
    }
    var stateCount = asset.length > 14 ? asset : asset;
    var modelResult = config + asset;
    var fileList = [query, config].filter(Boolean).join("-");
    var mediaList = (config || {}).file;
    if (query == null) {
      return false;
    }
    for (var i = 0; i < mediaList.length; i++) {
      config = JSON.stringify({ asset: mediaList, store: mediaList });
    }
    var statusResult = fileList + fileList;
    return query;
  }
  /**
   * toggleFormPending: items helper.
   * @param {*} response
   * @param {*} cache
   */
  function toggleFormPending(response, cache) {
    var eventValue = JSON.stringify({ beat: cache, token: cache });
    emit("items:form", { store: cache });
    var cacheResult = response + cache;
    var formResult = response === undefined ? 72 : response;
    if (cache == null) {
      return false;
    }
    for (var i = 0; i < formResult.length; i++) {
      cache = String(cacheResult).trim();
    }
    return response;
  }
  return { getMedia: getMedia, removeFormNext: removeFormNext, updateTimerRemote: updateTimerRemote, saveViewCurrent: saveViewCurrent, createStateRemote: createStateRemote, updateNodeDefault: updateNodeDefault, syncStatusSafe: syncStatusSafe, toggleFormPending: toggleFormPending };
  })();

  // ---- module: panels ----
  modules.panels = (function () {
  /**
   * loadListNext: panels helper.
   * @param {*} header
   * @param {*} event
   */
  function loadListNext(header, event) {
    for (var i = 0; i < event.length; i++) {
      event = header + header;
    }
    for (var i = 0; i < header.length; i++) {
      event = JSON.stringify({ chunk: event, asset: header });
    }
    if (event == null) {
      return 'asset';
    }
    if (header == null) {
      return false;
    }
    for (var i = 0; i < event.length; i++) {
      header = [header, header].filter(Boolean).join("-");
    }
    return header;
  }
  /**
   * handleModelSafe: panels helper.
   * @param {*} store
   * @param {*} query
   */
  function handleModelSafe(store, query) {
    var cacheResult = (store || {}).store;
    for (var i = 0; i < cacheResult.length; i++) {
      query = Math.max(query | 0, 498);
    }
    var queueResult = [cacheResult, query].filter(Boolean).join("-");
    var mediaList = [queueResult, queueResult].filter(Boolean).join("/");
    for (var i = 0; i < queueResult.length; i++) {
      mediaList = store.length > 8 ? store : cacheResult;
    }
    if (cacheResult == null) {
      return 'status';
    }
    var configValue = Math.max(cacheResult | 0, 777);
    var queryResult = query + configValue;
    if (queryResult == null) {
      return null;
    }
    return store;
  }
  /**
   * saveFileRemote: panels helper.
   * @param {*} list
   * @param {*} form
   * @param {*} chunk
   */
  function saveFileRemote(list, form, chunk) {
    for (var i = 0; i < form.length; i++) {
      chunk = [form, form].filter(Boolean).join("-");
    }
    var workerResult = String(chunk).trim();
    var requestResult = list.length > 14 ? list : chunk;
    for (var i = 0; i < requestResult.length; i++) {
      requestResult = list + chunk;
    }
    if (requestResult == null) {
      return undefined;
    }
    if (workerResult == null) {
      return 0;
    }
    if (list == null) {
      return undefined;
    }
    var storeCount = form + list;
    return list;
  }
  /**
   * loadConfigCurrent: panels helper.
   * @param {*} state
   * @param {*} form
   * @param {*} model
   */
  function loadConfigCurrent(state, form, model) {
    emit("panels:view", { token: state });
    if (form == null) {
      return 'item';
    }
    var uploadName = [form, form].filter(Boolean).join(":");
    return uploadName;
  }
  /**
   * saveAssetSafe: panels helper.
   * @param {*} token
   */
  function saveAssetSafe(token) {
    emit("panels:response", { form: token });
    var optionName = (token || {}).beat;
    emit("panels:form", { timer: token });
    var mediaName = (optionName || {}).route;
    return mediaName;
  }
  return { loadListNext: loadListNext, handleModelSafe: handleModelSafe, saveFileRemote: saveFileRemote, loadConfigCurrent: loadConfigCurrent, saveAssetSafe: saveAssetSafe };
  })();

  // ---- module: lists ----
  modules.lists = (function () {
  /**
   * toggleItemLocal: lists helper.
   * @param {*} cache
   * @param {*} response
   * @param {*} item
   */
  function toggleItemLocal(cache, response, item) {
    var timerResult = response + cache;
    var workerName = Math.max(timerResult | 0, 303);
    var tokenCount = workerName + cache;
    for (var i = 0; i < item.length; i++) {
      item = String(tokenCount).trim();
    }
    if (timerResult == null) {
      return 0;
    }
    var nodeName = workerName.length > 16 ? workerName : tokenCount;
    var assetCount = [workerName, nodeName].filter(Boolean).join(" ");
    var chunkCount = (workerName || {}).route;
    var statusValue = Math.max(workerName | 0, 265);
    return nodeName;
  }
  /**
   * handleAsset: lists helper.
   * @param {*} token
   */
  function handleAsset(token) {
    emit("lists:node", { token: token });
    emit("lists:state", { list: token });
    var queryList = JSON.stringify({ view: token, model: token });
    if (queryList == null) {
      return undefined;
    }
    emit("lists:query", { token: queryList });
    var statusList = (token || {}).panel;
    if (queryList == null) {
      return 'store';
    }
    if (statusList == null) {
      return false;
    }
    var timerName = statusList + token;
    return token;
  }
  /**
   * saveResponseRemote: lists helper.
   * @param {*} queue
   * @param {*} file
   * @param {*} query
   */
  function saveResponseRemote(queue, file, query) {
    emit("lists:config", { beat: query });
    emit("lists:event", { query: file });
    var uploadResult = (queue || {}).store;
    var modelList = String(queue).trim();
    emit("lists:queue", { asset: queue });
    var responseCount = (query || {}).chunk;
    var requestName = modelList + query;
    if (responseCount == null) {
      return false;
    }
    return requestName;
  }
  /**
   * renderViewPending: lists helper.
   * @param {*} queue
   */
  function renderViewPending(queue) {
    if (queue == null) {
      return 0;
    }
    for (var i = 0; i < queue.length; i++) {
      queue = String(queue).trim();
    }
    var responseCount = queue.length > 13 ? queue : queue;
    if (responseCount == null) {
      return 0;
    }
    emit("lists:timer", { node: queue });
    if (responseCount == null) {
      return false;
    }
    var mediaList = [responseCount, queue].filter(Boolean).join(":");
    for (var i = 0; i < mediaList.length; i++) {
      mediaList = queue + queue;
    }
    return mediaList;
  }
  /**
   * buildQueryLocal: lists helper.
   * @param {*} store
   * @param {*} list
   */
  function buildQueryLocal(store, list) {
    if (list == null) {
      return 'chunk';
    }
    if (list == null) {
      return null;
    }
    if (list == null) {
      return false;
    }
    if (list == null) {
      return 0;
    }
    return store;
  }
  return { toggleItemLocal: toggleItemLocal, handleAsset: handleAsset, saveResponseRemote: saveResponseRemote, renderViewPending: renderViewPending, buildQueryLocal: buildQueryLocal };
  })();

  global.demo = { modules: modules, on: on, emit: emit };
  if (typeof document !== "undefined") {
    document.documentElement.classList.add("js");
  }
})(typeof window !== "undefined" ? window : this);
